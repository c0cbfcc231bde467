export { zeroRuns, diffRuns } from './byterange/index.js';
export type { ByteRun } from './byterange/index.js';
export { emulate, GPR_NAMES, type DeliveredInterrupt, type EmulationResult, type EmulatorCpu, type EmulatorRegisters, type EmulatorSystem, type GuestBus, type MemoryAccess } from './x86/emulator.js';
export { decodeAll, decodeBatches, decodeOne, formatInstruction, mnemonicName, InstructionBatch, MNEMONICS, type Bitness, type DecodeOptions, type DecodedInstruction, type FormatOptions, type InstructionPrefixes, type InstructionStatus, type MemoryOperand, type Mnemonic, type Operand, type Register } from './x86/index.js';
export { mapL2Entries } from './qcow2/index.js';
export type { L2Geometry, L2Run, L2RunKind } from './qcow2/index.js';
