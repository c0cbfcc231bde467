// Signal names and numbers as `kill` takes them: TERM, SIGTERM, 15.
import { constants } from 'node:os';
import { IsolaError } from '@isola/errors';

export function parseSignal(value: string | number | undefined, fallback = 'SIGTERM'): number {
  const text = String(value ?? fallback).toUpperCase();
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= 1 && n <= 64) return n;
  } else {
    const name = (text.startsWith('SIG') ? text : `SIG${text}`) as keyof typeof constants.signals;
    if (name in constants.signals) return constants.signals[name];
  }
  throw new IsolaError('EINVAL', `unknown signal ${JSON.stringify(value)}`);
}
