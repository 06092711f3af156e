/**
 * An in-memory commit graph with generation numbers, answering many ancestry questions from one
 * load (pure). Built from `git rev-list --parents --topo-order` output or any equivalent list.
 */

/** Outcome of one ancestry question against a {@link CommitGraph}. */
export type AncestryAnswer = 'yes' | 'no' | 'unknown-ancestor' | 'unknown-descendant' | 'shallow';

export class CommitGraph {
  private readonly index = new Map<string, number>();
  private readonly parentStart: Int32Array;
  private readonly parentList: Int32Array;
  private readonly generation: Int32Array;
  private readonly shallow: Uint8Array;
  private readonly stamp: Int32Array;
  private epoch = 0;

  /**
   * @param commits each commit with its parents, children before parents (`--topo-order`); parents
   *   missing from the list (beyond a shallow boundary) are ignored.
   * @param shallowCommits commits whose parents the repository does not have (`.git/shallow`).
   */
  constructor(commits: readonly (readonly string[])[], shallowCommits: Iterable<string> = []) {
    const n = commits.length;
    commits.forEach((c, i) => this.index.set(c[0]!, i));
    this.parentStart = new Int32Array(n + 1);
    let total = 0;
    for (let i = 0; i < n; i++) {
      this.parentStart[i] = total;
      for (let k = 1; k < commits[i]!.length; k++) if (this.index.has(commits[i]![k]!)) total++;
    }
    this.parentStart[n] = total;
    this.parentList = new Int32Array(total);
    let w = 0;
    for (let i = 0; i < n; i++) {
      for (let k = 1; k < commits[i]!.length; k++) {
        const p = this.index.get(commits[i]![k]!);
        if (p !== undefined) this.parentList[w++] = p;
      }
    }
    // Parents come after children in topo order, so walk backwards to compute generations.
    this.generation = new Int32Array(n);
    for (let i = n - 1; i >= 0; i--) {
      let g = 1;
      for (let k = this.parentStart[i]!; k < this.parentStart[i + 1]!; k++) {
        const pg = this.generation[this.parentList[k]!]! + 1;
        if (pg > g) g = pg;
      }
      this.generation[i] = g;
    }
    this.shallow = new Uint8Array(n);
    for (const s of shallowCommits) {
      const i = this.index.get(s);
      if (i !== undefined) this.shallow[i] = 1;
    }
    this.stamp = new Int32Array(n);
  }

  /** Parses `git rev-list --parents` output (one `commit parent…` line per commit). */
  static fromRevList(text: string, shallowCommits: Iterable<string> = []): CommitGraph {
    const commits: string[][] = [];
    for (const line of text.split('\n')) if (line.length >= 40) commits.push(line.split(' '));
    return new CommitGraph(commits, shallowCommits);
  }

  get size(): number {
    return this.index.size;
  }

  has(commit: string): boolean {
    return this.index.has(commit);
  }

  /**
   * Answers every pair with one walk per distinct descendant: a depth-first walk over parents that
   * never goes below the smallest generation among that descendant's candidates.
   */
  answer(pairs: readonly { ancestor: string; descendant: string }[]): AncestryAnswer[] {
    const answers = new Array<AncestryAnswer>(pairs.length);
    const byDescendant = new Map<number, number[]>();
    pairs.forEach((q, qi) => {
      const d = this.index.get(q.descendant);
      if (d === undefined) {
        answers[qi] = 'unknown-descendant';
        return;
      }
      const a = this.index.get(q.ancestor);
      if (a === undefined) {
        answers[qi] = 'unknown-ancestor';
        return;
      }
      if (a === d) {
        answers[qi] = 'yes';
        return;
      }
      if (this.generation[a]! >= this.generation[d]!) {
        answers[qi] = this.hasShallow() ? 'shallow' : 'no';
        return;
      }
      let list = byDescendant.get(d);
      if (!list) byDescendant.set(d, (list = []));
      list.push(qi);
    });

    const stack: number[] = [];
    for (const [d, queries] of byDescendant) {
      let minGen = Number.MAX_SAFE_INTEGER;
      const targets = new Set<number>();
      for (const qi of queries) {
        const a = this.index.get(pairs[qi]!.ancestor)!;
        targets.add(a);
        if (this.generation[a]! < minGen) minGen = this.generation[a]!;
      }
      const epoch = ++this.epoch;
      let remaining = targets.size;
      let hitShallow = false;
      stack.length = 0;
      stack.push(d);
      this.stamp[d] = epoch;
      while (stack.length > 0 && remaining > 0) {
        const c = stack.pop()!;
        if (targets.has(c)) remaining--;
        if (this.shallow[c]) hitShallow = true;
        for (let k = this.parentStart[c]!; k < this.parentStart[c + 1]!; k++) {
          const p = this.parentList[k]!;
          if (this.stamp[p] === epoch || this.generation[p]! < minGen) continue;
          this.stamp[p] = epoch;
          stack.push(p);
        }
      }
      for (const qi of queries) {
        const a = this.index.get(pairs[qi]!.ancestor)!;
        answers[qi] = this.stamp[a] === epoch ? 'yes' : hitShallow || this.hasShallow() ? 'shallow' : 'no';
      }
    }
    return answers;
  }

  private shallowKnown: boolean | undefined;
  private hasShallow(): boolean {
    // A "no" is only trusted when no walked commit had its parents cut off; walks that stop early
    // (generation bound) may skip a shallow commit, so any shallow commit makes "no" uncertain.
    if (this.shallowKnown === undefined) this.shallowKnown = this.shallow.some((x) => x === 1);
    return this.shallowKnown;
  }
}
