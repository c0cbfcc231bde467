export function fill(seq: number, length: number): Buffer;
