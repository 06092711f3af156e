/**
 * Cross-image rules: references name existing images, no image refers to itself, and the graph of
 * from/fromImage/fromArtifact/import/dependencies has no cycle (reported with the whole cycle).
 */
import type { ImageReference } from './image.js';
import { closestMatch } from './suggest.js';

/**
 * @param order image keys in config order (decides where a cycle is reported and how it is printed)
 * @param references per image key, the references its definition makes
 */
export function checkReferences(order: readonly string[], references: ReadonlyMap<string, ImageReference[]>): void {
  const known = new Set(order);
  const edges = new Map<string, Map<string, ImageReference>>();
  for (const from of order) {
    const out = new Map<string, ImageReference>();
    edges.set(from, out);
    for (const ref of references.get(from) ?? []) {
      if (ref.target === from) {
        ref.dc.report('SELF_REFERENCE', `image "${from}" refers to itself through ${describeDirective(ref)}`, ref.node, ref.segments, {
          hint: 'An image cannot be built from, import from, or depend on itself.',
        });
        continue;
      }
      if (!known.has(ref.target)) {
        const closest = closestMatch(ref.target, order);
        ref.dc.report('UNKNOWN_IMAGE_REFERENCE', `${describeDirective(ref)} refers to "${ref.target}", which is not an image of this config`, ref.node, ref.segments, {
          hint: closest !== undefined ? `did you mean "${closest}"?` : `images in this config: ${order.join(', ') || '(none)'}`,
        });
        continue;
      }
      if (!out.has(ref.target)) out.set(ref.target, ref);
    }
  }
  for (const component of stronglyConnected(order, edges)) {
    if (component.length < 2) continue;
    const members = new Set(component);
    const start = order.find((key) => members.has(key));
    if (start === undefined) continue;
    const cycle = shortestCycle(start, members, edges);
    const second = cycle[1];
    const first = second === undefined ? undefined : edges.get(start)?.get(second);
    if (!first) continue;
    const related = cycle.slice(1, -1).flatMap((from, i) => {
      const to = cycle[i + 2];
      const edge = to === undefined ? undefined : edges.get(from)?.get(to);
      return edge ? [{ at: edge.node, message: `${from} -> ${to} (${describeDirective(edge)})` }] : [];
    });
    first.dc.report('DEPENDENCY_CYCLE', `dependency cycle: ${cycle.join(' -> ')}`, first.node, first.segments, {
      hint: 'Images are built in dependency order, so from/fromImage/import/dependencies must not form a loop.',
      related,
    });
  }
}

function describeDirective(ref: ImageReference): string {
  return ref.directive === 'dependencies' ? 'a dependency' : ref.directive === 'import' ? 'an import' : `"${ref.directive}"`;
}

/** Tarjan's algorithm, iterative (configs may be large; recursion depth must not depend on input). */
function stronglyConnected(order: readonly string[], edges: ReadonlyMap<string, ReadonlyMap<string, unknown>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const root of order) {
    if (index.has(root)) continue;
    const work: { node: string; next: Iterator<string> }[] = [];
    const visit = (node: string): void => {
      index.set(node, counter);
      low.set(node, counter);
      counter++;
      stack.push(node);
      onStack.add(node);
      work.push({ node, next: (edges.get(node)?.keys() ?? [][Symbol.iterator]()) as Iterator<string> });
    };
    visit(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: string; next: Iterator<string> };
      const step = frame.next.next();
      if (!step.done) {
        const target = step.value;
        if (!index.has(target)) visit(target);
        else if (onStack.has(target)) low.set(frame.node, Math.min(low.get(frame.node) ?? 0, index.get(target) ?? 0));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node) ?? 0, low.get(frame.node) ?? 0));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string | undefined;
        do {
          member = stack.pop();
          if (member === undefined) break;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        components.push(component);
      }
    }
  }
  return components;
}

/** The shortest cycle through `start` inside one strongly connected component: `[a, b, a]`. */
function shortestCycle(start: string, members: ReadonlySet<string>, edges: ReadonlyMap<string, ReadonlyMap<string, unknown>>): string[] {
  const previous = new Map<string, string>();
  const queue: string[] = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head] as string;
    for (const target of edges.get(node)?.keys() ?? []) {
      if (!members.has(target)) continue;
      if (target === start) {
        const path = [start];
        for (let at: string | undefined = node; at !== undefined && at !== start; at = previous.get(at)) path.push(at);
        return [start, ...path.slice(1).reverse(), start];
      }
      if (!previous.has(target)) {
        previous.set(target, node);
        queue.push(target);
      }
    }
  }
  return [start];
}
