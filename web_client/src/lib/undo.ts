// A bounded undo/redo stack of reversible commands.

export interface Command {
  /** Short text for the UI ("Add polygon", "Move 3 elements"). */
  label: string;
  apply(): void;
  revert(): void;
}

export class UndoStack {
  private done: Command[] = [];
  private undone: Command[] = [];
  private listeners = new Set<() => void>();

  constructor(private readonly limit = 200) {}

  /** Run a command and record it; clears the redo branch. */
  execute(cmd: Command): void {
    cmd.apply();
    this.push(cmd);
  }

  /** Record a command whose effect already happened (e.g. a finished drag). */
  push(cmd: Command): void {
    this.done.push(cmd);
    if (this.done.length > this.limit) this.done.shift();
    this.undone = [];
    this.emit();
  }

  undo(): Command | undefined {
    const cmd = this.done.pop();
    if (!cmd) return undefined;
    cmd.revert();
    this.undone.push(cmd);
    this.emit();
    return cmd;
  }

  redo(): Command | undefined {
    const cmd = this.undone.pop();
    if (!cmd) return undefined;
    cmd.apply();
    this.done.push(cmd);
    this.emit();
    return cmd;
  }

  canUndo(): boolean {
    return this.done.length > 0;
  }

  canRedo(): boolean {
    return this.undone.length > 0;
  }

  /** Label of the command an undo would revert. */
  peekUndo(): string | undefined {
    return this.done[this.done.length - 1]?.label;
  }

  peekRedo(): string | undefined {
    return this.undone[this.undone.length - 1]?.label;
  }

  clear(): void {
    this.done = [];
    this.undone = [];
    this.emit();
  }

  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(): void {
    for (const fn of this.listeners) fn();
  }
}

/** Combine several commands into one undo step. */
export function group(label: string, cmds: Command[]): Command {
  return {
    label,
    apply: () => cmds.forEach((c) => c.apply()),
    revert: () => [...cmds].reverse().forEach((c) => c.revert()),
  };
}
