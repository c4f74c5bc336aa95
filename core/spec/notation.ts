// The paper's shorthand DS/A-B-k-θ: first conv channels, bottleneck width, growth rate, transition compression.

export interface Notation {
  firstConv: number;
  bottleneck: number;
  growthRate: number;
  compression: number;
}

const FORM = /^\s*DS\/([0-9]+)-([0-9]+)-([0-9]+)-([0-9]*\.?[0-9]+)\s*$/;

export function parseNotation(text: string): Notation | { error: string } {
  const m = FORM.exec(text);
  if (!m) return { error: `"${text}" is not in the form DS/A-B-k-θ (for example DS/64-192-48-1).` };
  const [firstConv, bottleneck, growthRate] = [m[1], m[2], m[3]].map(Number);
  const compression = Number(m[4]);
  if (firstConv < 1 || bottleneck < 1 || growthRate < 1) {
    return { error: `In "${text}", A, B and k must be at least 1.` };
  }
  if (!(compression > 0 && compression <= 1)) {
    return { error: `In "${text}", the compression θ must be in (0, 1] (got ${m[4]}).` };
  }
  return { firstConv, bottleneck, growthRate, compression };
}

export function formatNotation(n: Notation): string {
  return `DS/${n.firstConv}-${n.bottleneck}-${n.growthRate}-${n.compression}`;
}
