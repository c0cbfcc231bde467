// A classic-BPF assembler with symbolic forward jumps. Conditional jumps carry 8-bit offsets, so a
// target more than 255 instructions ahead is reached through an unconditional `ja` (32-bit offset)
// placed right after the jump; adding one lengthens other jumps, so layout repeats until it settles.
import { BPF, type Instruction, MAX_SHORT_JUMP } from './instruction.js';

/** A place in the program, bound with `place()` just before the instruction it names. */
export class Label {
  at = -1;
}

export type Condition = 'jeq' | 'jgt' | 'jge' | 'jset';

const CONDITION_CODES: Readonly<Record<Condition, number>> = {
  jeq: BPF.JMP_JEQ_K,
  jgt: BPF.JMP_JGT_K,
  jge: BPF.JMP_JGE_K,
  jset: BPF.JMP_JSET_K,
};

interface Plain {
  kind: 'plain';
  insn: Instruction;
}

interface Branch {
  kind: 'branch';
  code: number;
  k: number;
  ifTrue: Label;
  ifFalse: Label;
  /** Whether each side goes through its own `ja` trampoline. */
  farTrue: boolean;
  farFalse: boolean;
}

type Item = Plain | Branch;

const size = (item: Item): number => (item.kind === 'plain' ? 1 : 1 + Number(item.farTrue) + Number(item.farFalse));

export class Assembler {
  readonly #items: Item[] = [];

  label(): Label {
    return new Label();
  }

  place(label: Label): void {
    if (label.at >= 0) throw new Error('BPF assembler: a label is placed once');
    label.at = this.#items.length;
  }

  load(offset: number): void {
    this.#plain(BPF.LD_W_ABS, offset);
  }

  and(mask: number): void {
    this.#plain(BPF.ALU_AND_K, mask);
  }

  ret(value: number): void {
    this.#plain(BPF.RET_K, value);
  }

  /** Continues at `ifTrue` when `A <condition> k` holds, else at `ifFalse`; both must lie ahead. */
  jump(condition: Condition, k: number, ifTrue: Label, ifFalse: Label): void {
    this.#items.push({ kind: 'branch', code: CONDITION_CODES[condition], k: k >>> 0, ifTrue, ifFalse, farTrue: false, farFalse: false });
  }

  assemble(): Instruction[] {
    const slots = this.#layOut();
    const slotOf = (label: Label): number => {
      if (label.at < 0 || label.at >= this.#items.length) throw new Error('BPF assembler: a jump targets an unplaced label');
      return slots[label.at];
    };
    const program: Instruction[] = [];
    this.#items.forEach((item, i) => {
      if (item.kind === 'plain') {
        program.push(item.insn);
        return;
      }
      const next = slots[i] + 1;
      const trueSlot = slotOf(item.ifTrue);
      const falseSlot = slotOf(item.ifFalse);
      const jt = item.farTrue ? 0 : trueSlot - next;
      const jf = item.farFalse ? Number(item.farTrue) : falseSlot - next;
      program.push({ code: item.code, jt, jf, k: item.k });
      if (item.farTrue) program.push({ code: BPF.JMP_JA, jt: 0, jf: 0, k: trueSlot - (next + 1) });
      if (item.farFalse) program.push({ code: BPF.JMP_JA, jt: 0, jf: 0, k: falseSlot - (slots[i] + size(item)) });
    });
    return program;
  }

  /** The first slot of every item, once no conditional jump reaches farther than 255. */
  #layOut(): number[] {
    for (;;) {
      const slots: number[] = [];
      let slot = 0;
      for (const item of this.#items) {
        slots.push(slot);
        slot += size(item);
      }
      let changed = false;
      this.#items.forEach((item, i) => {
        if (item.kind !== 'branch') return;
        const next = slots[i] + 1;
        for (const side of ['True', 'False'] as const) {
          const target = item[`if${side}`];
          const distance = (target.at >= 0 && target.at < slots.length ? slots[target.at] : Number.NaN) - next;
          if (!(distance >= 0)) throw new Error('BPF assembler: jumps go forward to a placed label');
          if (distance > MAX_SHORT_JUMP && !item[`far${side}`]) {
            item[`far${side}`] = true;
            changed = true;
          }
        }
      });
      if (!changed) return slots;
    }
  }

  #plain(code: number, k: number): void {
    this.#items.push({ kind: 'plain', insn: { code, jt: 0, jf: 0, k: k >>> 0 } });
  }
}
