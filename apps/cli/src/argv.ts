// Docker's rule for run/create/exec: flags end at the first positional (the image or the container);
// what follows is the command, whatever its dashes. Which flags take a value comes from the command's
// own oclif flag definitions, so the list cannot drift from the flags.

export function splitAtPositional(argv: readonly string[], flags: Readonly<Record<string, { type: string; char?: string }>>): [flags: string[], rest: string[]] {
  const takesValue = new Set(Object.entries(flags).flatMap(([name, flag]) => (flag.type === 'option' ? [`--${name}`, ...(flag.char ? [`-${flag.char}`] : [])] : [])));
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') return [argv.slice(0, i), argv.slice(i + 1)];
    if (!token.startsWith('-')) return [argv.slice(0, i), argv.slice(i)];
    if (takesValue.has(token)) i++;
  }
  return [[...argv], []];
}
