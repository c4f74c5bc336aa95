// Keyboard navigation between nodes: Down follows the data to a successor, Up goes back to a predecessor, Left and
// Right move to the nearest node beside. Pure over the view graph and its layout, so it is testable without a page.
import type { Box, Layout } from './layout';
import type { ViewGraph } from './model';

export type Direction = 'up' | 'down' | 'left' | 'right';

const cx = (b: Box) => b.x + b.w / 2;
const cy = (b: Box) => b.y + b.h / 2;

const targetsOf = (id: string, g: ViewGraph) => g.edges.filter((e) => e.source === id).map((e) => e.target);

function successors(id: string, g: ViewGraph): string[] {
  const u = g.units.find((x) => x.id === id);
  if (u?.kind === 'block' && u.expanded) return [`${id}/in`]; // into the expanded block
  const out = targetsOf(id, g);
  if (!out.length && u?.kind === 'blockOut' && u.parent) return targetsOf(u.parent, g); // and out of it
  return out;
}

function predecessors(id: string, g: ViewGraph): string[] {
  const u = g.units.find((x) => x.id === id);
  if (u?.kind === 'blockIn' && u.parent) return [u.parent];
  return g.edges.filter((e) => e.target === id).map((e) => e.source);
}

/** The node to move to from `from`, or null when there is none that way. */
export function neighbour(from: string, dir: Direction, g: ViewGraph, layout: Layout): string | null {
  const here = layout.boxes.get(from);
  if (!here) return null;
  const nearest = (ids: string[], score: (b: Box) => number): string | null => {
    let best: string | null = null;
    let bestScore = Infinity;
    for (const id of ids) {
      const b = layout.boxes.get(id);
      if (!b || id === from) continue;
      const s = score(b);
      if (s < bestScore) [best, bestScore] = [id, s];
    }
    return best;
  };
  const byX = (b: Box) => Math.abs(cx(b) - cx(here));
  if (dir === 'down' || dir === 'up') {
    const linked = dir === 'down' ? successors(from, g) : predecessors(from, g);
    if (linked.length) return nearest(linked, byX);
    // No edge that way: the nearest node above or below.
    const all = [...layout.boxes.keys()].filter((id) => {
      const b = layout.boxes.get(id)!;
      return dir === 'down' ? b.y > here.y + here.h / 2 : b.y + b.h < here.y + here.h / 2;
    });
    return nearest(all, (b) => Math.abs(cy(b) - cy(here)) * 2 + byX(b));
  }
  // Beside: nodes whose vertical extent overlaps this one's, on that side; the closest wins. A frame and the nodes
  // inside it are not beside each other.
  const contains = (a: Box, b: Box) => a.x <= b.x && a.y <= b.y && a.x + a.w >= b.x + b.w && a.y + a.h >= b.y + b.h;
  const side = [...layout.boxes.keys()].filter((id) => {
    const b = layout.boxes.get(id)!;
    if (contains(b, here) || contains(here, b)) return false;
    const overlaps = b.y < here.y + here.h && b.y + b.h > here.y;
    return overlaps && (dir === 'right' ? cx(b) > cx(here) : cx(b) < cx(here));
  });
  return nearest(side, (b) => byX(b) + Math.abs(cy(b) - cy(here)));
}
