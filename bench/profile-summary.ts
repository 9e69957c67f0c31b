/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, as `npm run bench -- --profile` takes one): self time by
 * package (or app file) and the hottest functions, plus inclusive time of the app's own functions.
 * Usage: npx tsx bench/profile-summary.ts <file.cpuprofile | folder> [top]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
}

const target = process.argv[2];
const top = Number(process.argv[3] ?? 30);
if (!target) throw new Error('usage: npx tsx bench/profile-summary.ts <file.cpuprofile | folder> [top]');
const file = statSync(target).isDirectory()
  ? path.join(
      target,
      readdirSync(target)
        .filter((f) => f.endsWith('.cpuprofile'))
        .sort()
        .at(-1) ?? '',
    )
  : target;
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const totalMs = (profile.endTime - profile.startTime) / 1000;
const msPerSample = totalMs / profile.samples.length;

function where(url: string): string {
  if (!url) return '(native/vm)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) return url;
  const dist = url.indexOf('/dist/');
  return dist >= 0 ? url.slice(dist + 1) : url.replace(/^file:\/\//, '');
}

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map<string, number>();
const selfFn = new Map<string, number>();
let idle = 0;
for (const node of profile.nodes) {
  const ms = (node.hitCount ?? 0) * msPerSample;
  const name = node.callFrame.functionName || '(anonymous)';
  if (name === '(idle)') {
    idle += ms;
    continue;
  }
  const w = where(node.callFrame.url);
  const pkg = ['(garbage collector)', '(program)'].includes(name) ? name : w;
  self.set(pkg, (self.get(pkg) ?? 0) + ms);
  const fn = `${name} ${w}:${node.callFrame.lineNumber + 1}`;
  selfFn.set(fn, (selfFn.get(fn) ?? 0) + ms);
}

// Inclusive time of each app function (each sample counted once per function on its stack).
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const inclusive = new Map<string, number>();
for (const sample of profile.samples) {
  const seen = new Set<string>();
  for (let id: number | undefined = sample; id !== undefined; id = parent.get(id)) {
    const n = byId.get(id);
    if (!n) break;
    const w = where(n.callFrame.url);
    if (!w.startsWith('dist/') && !w.includes('/src/')) continue;
    const key = `${n.callFrame.functionName || '(anonymous)'} ${w}:${n.callFrame.lineNumber + 1}`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + msPerSample);
  }
}

const busy = totalMs - idle;
const print = (title: string, map: Map<string, number>, n: number) => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    process.stdout.write(`${((100 * v) / busy).toFixed(1).padStart(6)} %  ${v.toFixed(0).padStart(7)} ms  ${k}\n`);
  }
};
process.stdout.write(
  `${file}\n${totalMs.toFixed(0)} ms profiled, ${busy.toFixed(0)} ms busy (${((100 * busy) / totalMs).toFixed(0)} %)\n`,
);
print('self time by package / file', self, top);
print('self time by function', selfFn, top);
print('inclusive time, app functions', inclusive, top);
