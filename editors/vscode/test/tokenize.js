// The grammar as VS Code runs it (vscode-textmate with the oniguruma
// engine), over every .k8sinfra file of examples/, stdlib/ and
// tests/fixtures/valid/: each file's tokens, rendered one line of source
// then its tokens and their innermost scopes, must match its snapshot in
// test/snapshots/ (UPDATE=1 writes them anew), no token may be
// `invalid.illegal`, and every file must end outside any string, heredoc
// or interpolation. Known constructs are checked by hand as well, so a
// snapshot rewritten blindly cannot hide a broken rule.
'use strict';

const fs = require('fs');
const path = require('path');
const assert = require('assert');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const here = __dirname;
const root = path.resolve(here, '../../..');
const grammarPath = path.join(here, '../syntaxes/k8sinfra.tmLanguage.json');
const snapshots = path.join(here, 'snapshots');
const update = process.env.UPDATE === '1';

async function grammar() {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm')).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope) =>
      scope === 'source.k8sinfra' ? vsctm.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath) : null,
  });
  return registry.loadGrammar('source.k8sinfra');
}

// Each line's tokens: [text, innermost scope, all scopes].
function tokenize(g, text) {
  let stack = vsctm.INITIAL;
  const lines = text.split('\n');
  const out = lines.map((line) => {
    const result = g.tokenizeLine(line, stack);
    stack = result.ruleStack;
    return result.tokens.map((t) => {
      const piece = line.slice(t.startIndex, t.endIndex);
      return [piece, t.scopes[t.scopes.length - 1], t.scopes];
    });
  });
  return { lines, tokens: out, depth: stack.depth };
}

function render(lines, tokens) {
  const out = [];
  lines.forEach((line, i) => {
    const shown = tokens[i]
      .filter(([piece]) => piece.trim() !== '')
      .map(([piece, scope]) => `${piece.trim()} ${scope.replace(/\.k8sinfra$/, '')}`);
    out.push(`${String(i + 1).padStart(4)} | ${line}`);
    if (shown.length) out.push(`     | ${shown.join(' · ')}`);
  });
  return out.join('\n') + '\n';
}

function files(dir) {
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && !entry.name.startsWith('.')) found.push(...files(full));
    else if (entry.isFile() && entry.name.endsWith('.k8sinfra')) found.push(full);
  }
  return found.sort();
}

// The scope of the first token spelled `piece` on `line` of `text`.
function scopeOf(g, text, line, piece) {
  const { tokens } = tokenize(g, text);
  const token = tokens[line].find(([p]) => p.trim() === piece);
  assert.ok(token, `no token ${JSON.stringify(piece)} on line ${line + 1} of:\n${text}`);
  return token[2].join(' ');
}

function knownConstructs(g) {
  const cases = [
    ['vpc main {\n  cidr = 10.0.0.0/16\n}', 0, 'vpc', 'entity.name.type'],
    ['vpc main {\n  cidr = 10.0.0.0/16\n}', 0, 'main', 'entity.name.tag'],
    ['vpc main {\n  cidr = 10.0.0.0/16\n}', 1, 'cidr', 'variable.other.property'],
    ['vpc main {\n  cidr = 10.0.0.0/16\n}', 1, '10.0.0.0/16', 'constant.numeric.cidr'],
    ['x {\n  port = 30000..32767\n}', 1, '30000..32767', 'constant.numeric.port-range'],
    ['let a = "web-${count.index}"', 0, 'let', 'keyword.declaration.let'],
    ['let a = "web-${count.index}"', 0, 'count.index', 'meta.interpolation'],
    ['let a = "%{ if on ~}yes%{ endif }"', 0, 'if', 'keyword.control.directive'],
    ['let a = "%{ if on ~}yes%{ endif }"', 0, 'yes', 'string.quoted.double'],
    ['let a = "100%%{ x }"', 0, '%%{', 'constant.character.escape'],
    ['let a = <<-EOT\n  ${b}\n  EOT\nlet c = 1', 1, 'b', 'meta.interpolation'],
    ['let a = <<-EOT\n  ${b}\n  EOT\nlet c = 1', 3, 'let', 'keyword.declaration.let'],
    ['sensitive output key = tls_ca.ca.key_pem', 0, 'output', 'keyword.declaration.output'],
    ['sensitive output key = tls_ca.ca.key_pem', 0, 'sensitive', 'storage.modifier.sensitive'],
    ['input zones: list(string) = []', 0, 'list(string)', 'support.type'],
    ['module net = "stdlib/network" {\n  cidr = 10.0.0.0/16\n}', 0, 'net', 'entity.name.namespace'],
    ['vpc a {\n  provider = aws.west\n}', 1, 'provider', 'keyword.other.meta'],
    ['let a = cidrsubnet(x, 8, 1)', 0, 'cidrsubnet', 'support.function'],
    ['# a comment ${x}', 0, '# a comment ${x}', 'comment.line'],
    ['let s = { for k, v in m: k => v }', 0, '=>', 'keyword.operator.arrow'],
  ];
  for (const [text, line, piece, scope] of cases) {
    const scopes = scopeOf(g, text, line, piece);
    assert.ok(scopes.includes(scope), `${JSON.stringify(piece)} in ${JSON.stringify(text)}: ${scopes}`);
  }
  return cases.length;
}

async function main() {
  const g = await grammar();
  const known = knownConstructs(g);
  fs.mkdirSync(snapshots, { recursive: true });
  const all = ['examples', 'stdlib', 'tests/fixtures/valid'].flatMap((d) => files(path.join(root, d)));
  assert.ok(all.length >= 12, `the files were found: ${all.length}`);
  const failures = [];
  const expected = new Set();
  for (const file of all) {
    const relative = path.relative(root, file);
    const { lines, tokens, depth } = tokenize(g, fs.readFileSync(file, 'utf8'));
    const illegal = tokens.flatMap((t, i) => t.filter(([, s]) => s.startsWith('invalid')).map(([p]) => `${i + 1}: ${p}`));
    if (illegal.length) failures.push(`${relative}: invalid tokens at ${illegal.join(', ')}`);
    if (depth !== 1) failures.push(`${relative}: ends inside a string, heredoc or interpolation`);
    const name = relative.replace(/[\\/]/g, '__') + '.tokens';
    expected.add(name);
    const snapshot = path.join(snapshots, name);
    const now = render(lines, tokens);
    if (update) {
      fs.writeFileSync(snapshot, now);
    } else if (!fs.existsSync(snapshot)) {
      failures.push(`${relative}: no snapshot (run with UPDATE=1)`);
    } else if (fs.readFileSync(snapshot, 'utf8') !== now) {
      failures.push(`${relative}: tokens differ from test/snapshots/${name} (UPDATE=1 after checking)`);
    }
  }
  for (const stale of fs.readdirSync(snapshots).filter((n) => !expected.has(n))) {
    if (update) fs.unlinkSync(path.join(snapshots, stale));
    else failures.push(`test/snapshots/${stale}: no such file any more`);
  }
  if (failures.length) {
    console.error(failures.join('\n'));
    process.exit(1);
  }
  console.log(`grammar: ${known} constructs as expected; ${all.length} files tokenized as their snapshots say`);
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
