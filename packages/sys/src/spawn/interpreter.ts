// The assembled bytes of interpreter.S (205 bytes of position-independent x86-64 code).
// Regenerate: as --64 -o i.o interpreter.S && objcopy -O binary -j .text i.o i.bin && xxd -p i.bin
export const INTERPRETER_HEX =
  '4989fc4d8b2c244d8db4248800000031db4c39eb0f83aa000000498b6e384889ea48c1ea1031c9498b44ce0889d683e60f74' +
  '05498b44f410498944cc5848c1ea04ffc183f90672df498b7c2458498b742460498b5424684d8b5424704d8b4424784d8b8c' +
  '2480000000498b060f05483d01f0ffff723440f6c501753cf7d841895c24104189442414b801000000498b7c2408498d7424' +
  '10ba080000000f05b8e7000000bf7f0000000f0548c1ed0883e50f7405498944ec1048ffc34983c640e94dffffffb8e70000' +
  '0031ff0f05';

/** Byte layout of the program the interpreter reads (see interpreter.S). */
export const PROGRAM = {
  count: 0, errorFd: 8, reportStep: 16, reportErrno: 20, slots: 24, slotCount: 8, args: 88, steps: 136, stepSize: 64, flags: 56,
} as const;

export const STEP_IGNORE_FAILURE = 1n;
/** Bits 8-11: save the result in slot n-1. */
export const STEP_SAVE_SHIFT = 8n;
/** Bits 16-39: four bits per argument, take argument i from slot n-1. */
export const STEP_ARG_SHIFT = 16n;
