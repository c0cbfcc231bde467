// The assembled bytes of interpreter.S (150 bytes of position-independent x86-64 code).
// Regenerate: as --64 -o i.o interpreter.S && objcopy -O binary -j .text i.o i.bin && xxd -p i.bin
export const INTERPRETER_HEX =
  '4989fc4d8b2c244d8d74241831db4531ff4c39eb7377498b7e0841f646380474034c89ff498b06498b7610498b56184d8b5620' +
  '4d8b46284d8b4e300f05483d01f0ffff723541f64638017538f7d841895c24104189442414b801000000498b7c2408498d7424' +
  '10ba080000000f05b8e7000000bf7f0000000f0541f646380274034989c748ffc34983c640eb84b8e700000031ff0f05';

/** Byte layout of the program the interpreter reads (see interpreter.S). */
export const PROGRAM = { count: 0, errorFd: 8, reportStep: 16, reportErrno: 20, steps: 24, stepSize: 64, flags: 56 } as const;

export const STEP_IGNORE_FAILURE = 1;
export const STEP_SAVE_RESULT = 2;
export const STEP_USE_SAVED = 4;
