// Writes the generated part of the invalid corpus: test/fixtures/invalid/gen-NAME.yaml, each with
// its gen-NAME.expected (the first line vm must print: `FILE:LINE:COL: message...`, a prefix).
// Deterministic; the output is committed. `--check` exits 1 when the committed files differ.
//
// One case per schema rule, cross-field rule, secret-reference error, exposure refusal and
// hostile input. Secret-reference cases read ~/corpus/*.secret and VM_CORPUS_* variables, which
// test/fixtures/invalid/corpus-env.ts provides. Expectations are written by hand, not recorded
// from a run: a case whose message changes must be looked at. Values that are planned (state
// stopped/absent, install brew/script, supervisor launchd/process, version latest) have no
// case here: the hand-written state-stopped, install-brew and supervisor-launchd cover "not
// supported yet" until they are supported.
//
//   node scripts/gen-invalid-corpus.mjs [--check]

import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'test', 'fixtures', 'invalid');
const PREFIX = 'gen-';

/** A file with a valid livekit service around `body` (lines 6 on; line 1 is the comment). */
const lk = (body) => `version: 1\nservices:\n  livekit:\n    version: 1.9.0\n${body}`;
/** The same with a key `lan` whose secret is written as `ref`; the secret is on line 7. */
const key = (ref, extra = '') => lk(`${extra}    keys:\n      lan: ${ref}\n`);
const LAN = '    bind_addresses: [127.0.0.1, 192.168.1.20]\n';
const SHORT = '"inline-short-secret"'; // 19 characters
const LONG = '"corpus-inline-secret-0123456789abcdef"';

/** [name, why, content, expected `LINE:COL: message prefix`]. Line 1 of every file is `# why`. */
const cases = [
  // ── the document as a whole ──
  ['root-list', 'the file is a list, not a mapping', '- version: 1\n', '2:1: the file must be a mapping of keys (like `version: 1`), not a list'],
  ['root-text', 'the file is one word', 'livekit\n', '2:1: the file must be a mapping of keys (like `version: 1`), not "livekit"'],
  ['only-comments', 'comments and nothing else', '# nothing here\n', '1:1: the file is empty; it needs at least `version: 1`'],
  ['only-document-marker', 'a document marker and nothing else', '---\n', '2:4: the file is empty; it needs at least `version: 1`'],
  ['missing-format-version', 'no version: 1 at the top', 'services: {}\n', '2:1: missing key "version"'],
  ['format-version-2', 'a format version vm does not know', 'version: 2\n', '2:10: version is the file format and must be 1 (got 2)'],
  ['format-version-text', 'the format version quoted', 'version: "1"\n', '2:10: version is the file format and must be 1 (got "1")'],
  ['unknown-top-key-list', 'a key vm does not know, at the top', 'version: 1\nlivekit: {}\n', '3:1: unknown key "livekit"; allowed here: version, supervisor, services, clients'],
  ['supervisor-typo', 'a misspelt supervisor', 'version: 1\nsupervisor: sytemd\n', '3:13: supervisor must be one of auto, systemd, launchd, process; got "sytemd" (did you mean "systemd"?)'],
  ['supervisor-number', 'a supervisor that is a number', 'version: 1\nsupervisor: 1\n', '3:13: supervisor must be text, got 1; put it in quotes: "1"'],
  ['services-list', 'services written as a list', 'version: 1\nservices:\n  - livekit\n', '4:3: services must be a mapping (key: value), got a list'],
  ['service-unknown', 'a service with a name vm does not know, and no kind', 'version: 1\nservices:\n  memcached: {}\n', '4:3: "memcached" is not a service vm knows by name (livekit, whisper, kokoro, redis): declare it with kind: command, its command and its port'],
  ['livekit-text', 'livekit: with a word instead of settings', 'version: 1\nservices:\n  livekit: yes\n', '4:12: livekit must be a mapping (key: value), got "yes"'],
  ['livekit-empty', 'livekit: with nothing after it', 'version: 1\nservices:\n  livekit:\n', '4:3: livekit must be a mapping (key: value), got nothing'],
  ['livekit-other-name', 'kind: livekit under another name (LiveKit is the service named livekit)', 'version: 1\nservices:\n  lk2:\n    kind: livekit\n', '5:11: kind must be one of whisper, kokoro, command, redis; got "livekit"'],
  ['command-unknown-key', 'a command service with a key it does not take', 'version: 1\nservices:\n  my-llm:\n    kind: command\n    command: [/bin/llm]\n    port: 8080\n    model: /m.gguf\n', '8:5: unknown key "model"; allowed here: kind, state, autostart, remove_data, port, bind_addresses, health, logging, env, allow_insecure, command, working_dir'],
  ['redis-health-path', 'redis is checked with PING: an HTTP health path means nothing', 'version: 1\nservices:\n  redis:\n    health: { path: /health }\n', '5:15: unknown key "path"; allowed here: timeout'],

  // ── services.livekit ──
  ['livekit-unknown-key', 'a misspelt port', lk('    prot: 7880\n'), '6:5: unknown key "prot" (did you mean "port"?)'],
  ['state-typo', 'a misspelt state', lk('    state: runing\n'), '6:12: state must be one of running, stopped, absent; got "runing" (did you mean "running"?)'],
  ['autostart-yes', 'yes is text in YAML 1.2', lk('    autostart: yes\n'), '6:16: autostart must be true or false, got "yes"'],
  ['version-leading-v', 'a tag name instead of a version', 'version: 1\nservices:\n  livekit:\n    version: v1.9.0\n', '5:14: version must be an exact X.Y.Z such as 1.9.0, without a leading v (got "v1.9.0")'],
  ['version-number', '1.9 is a number, and not X.Y.Z', 'version: 1\nservices:\n  livekit:\n    version: 1.9\n', '5:14: version must be an exact X.Y.Z such as 1.9.0, without a leading v (got 1.9)'],
  ['version-prerelease', 'a pre-release is not pinned exactly', 'version: 1\nservices:\n  livekit:\n    version: 1.9.0-rc.1\n', '5:14: version must be an exact X.Y.Z'],

  // ── install ──
  ['install-text', 'install written as one word', lk('    install: release\n'), '6:14: install must be a mapping (key: value), got "release"'],
  ['install-unknown-key', 'a key install does not have', lk('    install:\n      url: https://example.com\n'), '7:7: unknown key "url"; allowed here: method, archive, script_url, path, base_url'],
  ['install-method-typo', 'a method vm does not know', lk('    install: { method: download }\n'), '6:24: method must be one of auto, release, brew, script, path; got "download"'],
  ['install-path-with-release', 'path means nothing for a release install', lk('    install:\n      path: /opt/livekit-server\n'), '7:7: path is only used with `method: path`'],
  ['install-path-missing', 'method: path without the path', 'version: 1\nservices:\n  livekit:\n    install:\n      method: path\n', '5:5: missing key "path" in install (needed with `method: path`)'],
  ['install-path-dollar', '$ would be expanded by systemd', 'version: 1\nservices:\n  livekit:\n    install: { method: path, path: "/opt/$LIVEKIT/livekit-server" }\n', '5:36: path must not contain $: vm does not expand variables'],
  ['install-path-double-quote', 'a double quote in a path', 'version: 1\nservices:\n  livekit:\n    install: { method: path, path: \'/opt/"lk"/livekit-server\' }\n', '5:36: path must not contain quotes or backslashes'],
  ['install-path-single-quote', 'a single quote in a path', 'version: 1\nservices:\n  livekit:\n    install: { method: path, path: "/opt/o\'brien/livekit-server" }\n', '5:36: path must not contain quotes or backslashes'],
  ['install-path-backslash', 'a backslash in a path', 'version: 1\nservices:\n  livekit:\n    install: { method: path, path: \'/opt/lk\\x/livekit-server\' }\n', '5:36: path must not contain quotes or backslashes'],
  ['install-path-newline', 'a newline in a path would start a new unit line', 'version: 1\nservices:\n  livekit:\n    install: { method: path, path: "/opt/lk\\nExecStartPre=/bin/sh" }\n', '5:36: path must not contain newlines or control characters'],
  ['install-path-tab', 'a control character in a path', 'version: 1\nservices:\n  livekit:\n    install: { method: path, path: "/opt/lk\\t/livekit-server" }\n', '5:36: path must not contain newlines or control characters'],
  ['install-path-number', 'a path that is a number', 'version: 1\nservices:\n  livekit:\n    install: { method: path, path: 42 }\n', '5:36: path must be text, got 42'],
  ['base-url-ftp', 'releases only over https', lk('    install: { base_url: "ftp://example.com/releases" }\n'), '6:26: base_url must start with https:// (got "ftp://example.com/releases")'],
  ['base-url-space', 'a space in the release URL', lk('    install: { base_url: "https://example.com/live kit" }\n'), '6:26: base_url must not contain spaces, newlines or control characters'],
  ['base-url-newline', 'a newline in the release URL', lk('    install: { base_url: "https://example.com/\\nx" }\n'), '6:26: base_url must not contain spaces, newlines or control characters'],
  ['base-url-credentials', 'a password in the release URL', lk('    install: { base_url: "https://user:pw@example.com/releases" }\n'), '6:26: base_url is not acceptable: base_url must not carry credentials'],
  ['base-url-not-a-url', 'https:// and nothing after it', lk('    install: { base_url: "https://[" }\n'), '6:26: base_url is not acceptable: not a URL'],

  // ── ports ──
  ['port-zero', 'port 0 means any port', lk('    port: 0\n'), '6:11: port must be at least 1 (got 0)'],
  ['port-negative', 'a negative port', lk('    port: -7880\n'), '6:11: port must be at least 1 (got -7880)'],
  ['port-too-big', 'ports end at 65535', lk('    port: 65536\n'), '6:11: port must be at most 65535 (got 65536)'],
  ['port-fraction', 'a port with a fraction', lk('    port: 7880.5\n'), '6:11: port must be a whole number, got 7880.5'],
  ['rtc-text', 'rtc written as one word', lk('    rtc: udp\n'), '6:10: rtc must be a mapping (key: value), got "udp"'],
  ['rtc-unknown-key', 'a misspelt tcp_port', lk('    rtc:\n      tcp_prot: 7881\n'), '7:7: unknown key "tcp_prot" (did you mean "tcp_port"?)'],
  ['rtc-range-start-zero', 'the media range cannot start at 0', lk('    rtc: { port_range_start: 0 }\n'), '6:30: port_range_start must be at least 1 (got 0)'],
  ['rtc-range-end-too-big', 'the media range ends past 65535', lk('    rtc: { port_range_end: 70000 }\n'), '6:28: port_range_end must be at most 65535 (got 70000)'],
  ['rtc-tcp-port-text', 'a quoted tcp_port', lk('    rtc: { tcp_port: "7881" }\n'), '6:22: tcp_port must be a whole number, got "7881"'],
  ['rtc-external-ip-text', 'use_external_ip is true or false', lk('    rtc: { use_external_ip: maybe }\n'), '6:29: use_external_ip must be true or false, got "maybe"'],
  ['rtc-range-empty', 'a media range of no ports', lk('    rtc: { port_range_start: 50000, port_range_end: 50000 }\n'), '6:53: port_range_start 50000 must be below port_range_end 50000'],
  ['rtc-start-above-default-end', 'a start above the default end', lk('    rtc: { port_range_start: 61000 }\n'), '6:30: port_range_start 61000 must be below port_range_end 60000 (the default)'],
  ['rtc-tcp-port-in-range', 'the TCP media port inside the UDP range', lk('    rtc: { tcp_port: 50000 }\n'), '6:22: tcp_port 50000 is inside the RTC port range 50000-60000; move one of them'],
  ['rtc-range-over-defaults', 'a range moved over the default ports', lk('    rtc: { port_range_start: 7000, port_range_end: 8000 }\n'), '6:30: port 7880 (the default) is inside the RTC port range 7000-8000; move one of them'],
  ['tcp-port-is-default-port', 'tcp_port set to the default HTTP port', lk('    rtc: { tcp_port: 7880 }\n'), '6:22: tcp_port 7880 is the same as port 7880 (the default); they must differ'],

  // ── bind_addresses ──
  ['bind-text', 'one address without a list', lk('    bind_addresses: 127.0.0.1\n'), '6:21: bind_addresses must be a list, got "127.0.0.1"'],
  ['bind-empty', 'no address at all', lk('    bind_addresses: []\n'), '6:21: bind_addresses must list at least one address'],
  ['bind-twice', 'the same address twice', lk('    bind_addresses: [127.0.0.1, 127.0.0.1]\n'), '6:33: bind_addresses lists "127.0.0.1" twice'],
  ['bind-ipv4-out-of-range', 'an IPv4 part over 255', lk('    bind_addresses: [10.0.0.300]\n'), '6:22: bind_addresses[0] is not a valid IPv4 address (got "10.0.0.300")'],
  ['bind-ipv6-two-gaps', 'an IPv6 address with two ::', lk('    bind_addresses: ["1::2::3"]\n'), '6:22: bind_addresses[0] is not a valid IP address (got "1::2::3")'],
  ['bind-ipv6-brackets', 'brackets belong in URLs, not here', lk('    bind_addresses: ["[::1]"]\n'), '6:22: bind_addresses[0] must be an IP address such as 127.0.0.1 or ::1, not a host name (got "[::1]")'],
  ['bind-ipv6-zone', 'a zone index', lk('    bind_addresses: ["fe80::1%eth0"]\n'), '6:22: bind_addresses[0] must be an IP address such as 127.0.0.1 or ::1, not a host name (got "fe80::1%eth0")'],
  ['bind-number', 'an address YAML reads as a number', lk('    bind_addresses: [127]\n'), '6:22: bind_addresses[0] must be text, got 127; put it in quotes: "127"'],
  ['bind-newline', 'an address with a newline after it', lk('    bind_addresses: ["127.0.0.1\\n"]\n'), '6:22: bind_addresses[0] must be an IP address without spaces, newlines or control characters (got "127.0.0.1\\n")'],

  // ── keys and inline secrets ──
  ['keys-list', 'keys written as a list', lk('    keys: [devkey]\n'), '6:11: keys must be a mapping (key: value), got a list'],
  ['key-name-dollar', '$ in a key name', lk('    keys:\n      "dev$key": "corpus-inline-secret-0123456789abcdef"\n'), '7:7: key name "dev$key" may only use letters, digits, _ and - (1 to 64 of them)'],
  ['key-name-percent', '% in a key name', lk('    keys:\n      "dev%ikey": "corpus-inline-secret-0123456789abcdef"\n'), '7:7: key name "dev%ikey" may only use letters, digits, _ and -'],
  ['key-name-quote', 'a quote in a key name', lk('    keys:\n      "dev\'key": "corpus-inline-secret-0123456789abcdef"\n'), '7:7: key name "dev\'key" may only use letters, digits, _ and -'],
  ['key-name-newline', 'a newline in a key name', lk('    keys:\n      "dev\\nkey": "corpus-inline-secret-0123456789abcdef"\n'), '7:7: key name "dev\\nkey" may only use letters, digits, _ and -'],
  ['key-name-too-long', 'a key name of 65 characters', lk(`    keys:\n      ${'k'.repeat(65)}: "corpus-inline-secret-0123456789abcdef"\n`), `7:7: key name "${'k'.repeat(57)}..." may only use letters, digits, _ and - (1 to 64 of them)`],
  ['key-duplicate', 'the same API key twice', lk(`    keys:\n      lan: ${LONG}\n      lan: ${LONG}\n`), '8:7: duplicate key "lan" (first set on line 7): each key may appear once'],
  ['secret-empty', 'an empty secret', key('""'), '7:12: the secret of key "lan" must be non-empty text without newlines or control characters'],
  ['secret-newline', 'a secret with a newline in it', key('"corpus-inline\\nsecret-0123456789abcdef"'), '7:12: the secret of key "lan" must be non-empty text without newlines or control characters'],
  ['secret-bell', 'a secret with a control character', key('"corpus-inline\\asecret-0123456789abcdef"'), '7:12: the secret of key "lan" must be non-empty text without newlines or control characters'],
  ['secret-literal-block', 'a secret in a literal block keeps its line breaks', key('|\n        corpus-inline-secret-0123456789abcdef\n        second-line\n'), '7:12: the secret of key "lan" must be non-empty text without newlines or control characters'],
  ['secret-folded-block', 'a folded block ends with a newline', key('>\n        corpus-inline-secret-0123456789abcdef\n'), '7:12: the secret of key "lan" must be non-empty text without newlines or control characters'],
  ['secret-boolean', 'true is not a secret', key('true'), '7:12: the secret of key "lan" must be text, { env: NAME } or { file: PATH }; got true or false'],
  ['secret-list', 'a list is not a secret', key('[a, b]'), '7:12: the secret of key "lan" must be text, { env: NAME } or { file: PATH }; got a list'],
  ['secret-nothing', 'a key with no secret', key(''), '7:7: the secret of key "lan" must be text, { env: NAME } or { file: PATH }; got nothing'],
  ['secret-unknown-alias', 'an alias to an anchor that does not exist', key('*secret'), '7:12: YAML alias *secret has no anchor &secret before it'],

  // ── secret references: their shape ──
  ['ref-empty', 'a reference with nothing in it', key('{}'), '7:12: the secret of key "lan" must be text, { env: NAME } or { file: PATH }; got an empty mapping'],
  ['ref-both', 'env and file at once', key('{ env: VM_CORPUS_SHORT, file: ~/corpus/short.secret }'), '7:12: the secret of key "lan" takes one of env or file, not both'],
  ['ref-unknown-key', 'a misspelt file', key('{ fiel: ~/corpus/short.secret }'), '7:12: the secret of key "lan" must be text, { env: NAME } or { file: PATH }; this mapping has another key (allowed here: env, file)'],
  ['ref-env-dash', 'a dash in a variable name', key('{ env: LIVEKIT-SECRET }'), '7:19: env of key "lan" must name an environment variable (letters, digits and _, not starting with a digit), not hold the secret itself'],
  ['ref-env-digit', 'a variable name starting with a digit', key('{ env: 1SECRET }'), '7:19: env of key "lan" must name an environment variable'],
  ['ref-env-dollar', 'a $ before the variable name', key('{ env: $LIVEKIT_SECRET }'), '7:19: env of key "lan" must name an environment variable'],
  ['ref-env-too-long', 'a variable name of 129 characters', key(`{ env: ${'V'.repeat(129)} }`), '7:19: env of key "lan" must name an environment variable'],
  ['ref-env-number', 'a variable name that is a number', key('{ env: 42 }'), '7:19: env of key "lan" must be text, got a number'],
  ['ref-file-relative', 'a secret file relative to nothing', key('{ file: corpus/short.secret }'), '7:20: file of key "lan" must be an absolute path or start with ~/'],
  ['ref-file-dollar', 'vm does not expand $HOME', key('{ file: "/home/$USER/livekit.secret" }'), '7:20: file of key "lan" must not contain $: vm does not expand variables'],
  ['ref-file-percent', 'a % in a secret file path', key('{ file: "/run/user/%U/livekit.secret" }'), '7:20: file of key "lan" must not contain %'],
  ['ref-file-quote', 'a quote in a secret file path', key('{ file: "/srv/\\"lk\\".secret" }'), '7:20: file of key "lan" must not contain quotes or backslashes'],
  ['ref-file-list', 'a list of files', key('{ file: [/a, /b] }'), '7:20: file of key "lan" must be text, got a list'],

  // ── secret references: reading them ──
  ['env-unset', 'a variable that is not set', key('{ env: VM_CORPUS_UNSET }'), '7:12: the secret of key "lan" comes from the environment variable VM_CORPUS_UNSET, which is not set'],
  ['env-empty', 'a variable that is set but empty', key('{ env: VM_CORPUS_EMPTY }'), '7:12: the secret of key "lan" comes from the environment variable VM_CORPUS_EMPTY, which is empty'],
  ['env-newline', 'a variable holding two lines', key('{ env: VM_CORPUS_NEWLINE }'), '7:12: the secret of key "lan" comes from the environment variable VM_CORPUS_NEWLINE, which holds a newline or control character'],
  ['env-unset-block', 'a variable that is not set, in block style', lk('    keys:\n      lan:\n        env: VM_CORPUS_UNSET\n'), '8:9: the secret of key "lan" comes from the environment variable VM_CORPUS_UNSET, which is not set'],
  ['file-missing', 'a secret file that does not exist', key('{ file: ~/corpus/missing.secret }'), '7:12: the secret of key "lan" comes from <home>/corpus/missing.secret, which does not exist; write the secret into it (one line) and run `chmod 600 <home>/corpus/missing.secret`'],
  ['file-world-readable', 'a secret file others can read', key('{ file: ~/corpus/open.secret }'), '7:12: the secret of key "lan" comes from <home>/corpus/open.secret, which group or others may access (mode 0644); run `chmod 600 <home>/corpus/open.secret`'],
  ['file-group-readable', 'a secret file the group can read', key('{ file: ~/corpus/group.secret }'), '7:12: the secret of key "lan" comes from <home>/corpus/group.secret, which group or others may access (mode 0640)'],
  ['file-symlink-to-open', 'a link to a secret file others can read', key('{ file: ~/corpus/open-link.secret }'), '7:12: the secret of key "lan" comes from <home>/corpus/open-link.secret, which group or others may access (mode 0644)'],
  ['file-dangling-symlink', 'a link to nothing', key('{ file: ~/corpus/dangling.secret }'), '7:12: the secret of key "lan" comes from <home>/corpus/dangling.secret, which does not exist'],
  ['file-directory', 'a directory where the secret file should be', key('{ file: ~/corpus/dir.secret }'), '7:12: the secret of key "lan" comes from <home>/corpus/dir.secret, which is a directory, not a file'],
  ['file-fifo', 'a FIFO: reading it must not hang', key('{ file: ~/corpus/fifo.secret }'), '7:12: the secret of key "lan" comes from <home>/corpus/fifo.secret, which is not a regular file'],
  ['file-device', 'a device: reading it never ends', key('{ file: /dev/zero }'), '7:12: the secret of key "lan" comes from /dev/zero, which is not a regular file'],
  ['file-too-big', 'a secret file of 5000 bytes', key('{ file: ~/corpus/big.secret }'), '7:12: the secret of key "lan" comes from <home>/corpus/big.secret, which is 5000 bytes; a secret file holds one line (at most 4096 bytes)'],
  ['file-empty', 'an empty secret file', key('{ file: ~/corpus/empty.secret }'), '7:12: the secret of key "lan" comes from <home>/corpus/empty.secret, which is empty'],
  ['file-two-lines', 'a secret file of two lines', key('{ file: ~/corpus/two-lines.secret }'), '7:12: the secret of key "lan" comes from <home>/corpus/two-lines.secret, which holds more than one line or a control character'],
  ['file-latin1', 'a secret file that is not UTF-8', key('{ file: ~/corpus/latin1.secret }'), '7:12: the secret of key "lan" comes from <home>/corpus/latin1.secret, which is not UTF-8 text'],
  ['file-under-a-file', 'a path through a file', key('{ file: ~/corpus/plain/lk.secret }'), '7:12: the secret of key "lan" comes from <home>/corpus/plain/lk.secret, which does not exist'],

  // ── exposure: weak secrets and dev mode off loopback ──
  ['exposed-short-inline', 'a short secret on the LAN', key(SHORT, LAN), '8:12: the secret of key "lan" is shorter than 32 characters, but LiveKit listens on 192.168.1.20 (bind_addresses[1], not loopback): anyone who can reach it could guess the secret; use a random secret of 32 or more characters (openssl rand -base64 32), listen on 127.0.0.1 only, or set allow_insecure: true'],
  ['exposed-short-all-ipv4', 'a short secret on every IPv4 interface', key(SHORT, '    bind_addresses: [0.0.0.0]\n'), '8:12: the secret of key "lan" is shorter than 32 characters, but LiveKit listens on 0.0.0.0 (bind_addresses[0], every interface)'],
  ['exposed-short-all-ipv6', 'a short secret on every IPv6 interface', key(SHORT, '    bind_addresses: ["::"]\n'), '8:12: the secret of key "lan" is shorter than 32 characters, but LiveKit listens on :: (bind_addresses[0], every interface)'],
  ['exposed-short-tailscale', 'a short secret on a Tailscale address', key(SHORT, '    bind_addresses: [100.101.102.103]\n'), '8:12: the secret of key "lan" is shorter than 32 characters, but LiveKit listens on 100.101.102.103 (bind_addresses[0], not loopback)'],
  ['exposed-short-mapped-ipv4', 'an IPv4-mapped LAN address is not loopback', key(SHORT, '    bind_addresses: ["::ffff:192.168.1.20"]\n'), '8:12: the secret of key "lan" is shorter than 32 characters, but LiveKit listens on ::ffff:192.168.1.20 (bind_addresses[0], not loopback)'],
  ['exposed-31-characters', 'one character short', key('"corpus-inline-secret-0123456789"', LAN), '8:12: the secret of key "lan" is shorter than 32 characters'],
  ['exposed-devkey-secret', "LiveKit's dev key and secret on every interface", lk('    bind_addresses: [0.0.0.0]\n    keys:\n      devkey: secret\n'), "8:15: the secret of key \"devkey\" is LiveKit's well-known development secret, but LiveKit listens on 0.0.0.0 (bind_addresses[0], every interface): anyone who can reach it could guess the secret; use your own random secret"],
  ['exposed-wellknown-other-key', "LiveKit's dev secret under another key", key('secret', LAN), "8:12: the secret of key \"lan\" is LiveKit's well-known development secret"],
  ['exposed-short-env', 'a short secret from the environment on the LAN', key('{ env: VM_CORPUS_SHORT }', LAN), '8:12: the secret of key "lan" is shorter than 32 characters, but LiveKit listens on 192.168.1.20'],
  ['exposed-wellknown-env', "LiveKit's dev secret from the environment", key('{ env: VM_CORPUS_WELLKNOWN }', LAN), "8:12: the secret of key \"lan\" is LiveKit's well-known development secret"],
  ['exposed-short-file', 'a short secret from a file on the LAN', key('{ file: ~/corpus/short.secret }', LAN), '8:12: the secret of key "lan" is shorter than 32 characters, but LiveKit listens on 192.168.1.20'],
  ['exposed-wellknown-file', "LiveKit's dev secret from a file", key('{ file: ~/corpus/wellknown.secret }', LAN), "8:12: the secret of key \"lan\" is LiveKit's well-known development secret"],
  ['exposed-dev', 'dev mode serves /debug/pprof to the LAN', lk(`${LAN}    dev: true\n`), "7:10: dev: true serves LiveKit's /debug/pprof profiling endpoints, but LiveKit listens on 192.168.1.20 (bind_addresses[1], not loopback): anyone who can reach it could use them; remove dev: true, listen on 127.0.0.1 only, or set allow_insecure: true"],
  ['exposed-explicitly-secure', 'allow_insecure: false changes nothing', key(SHORT, `${LAN}    allow_insecure: false\n`), '9:12: the secret of key "lan" is shorter than 32 characters'],
  ['dev-text', 'dev is true or false', lk('    dev: on\n'), '6:10: dev must be true or false, got "on"'],
  ['allow-insecure-text', 'allow_insecure is true or false', lk('    allow_insecure: "true"\n'), '6:21: allow_insecure must be true or false, got "true"'],

  // ── room, logging, health ──
  ['room-text', 'room written as one word', lk('    room: auto\n'), '6:11: room must be a mapping (key: value), got "auto"'],
  ['room-auto-create-text', 'auto_create is true or false', lk('    room: { auto_create: "yes" }\n'), '6:26: auto_create must be true or false, got "yes"'],
  ['room-timeout-zero', 'an empty room closed at once', lk('    room: { empty_timeout: 0 }\n'), '6:28: empty_timeout must be at least 1 (got 0)'],
  ['room-timeout-fraction', 'seconds are whole', lk('    room: { empty_timeout: 1.5 }\n'), '6:28: empty_timeout must be a whole number, got 1.5'],
  ['room-timeout-huge', 'past what LiveKit stores', lk('    room: { empty_timeout: 4294967296 }\n'), '6:28: empty_timeout must be at most 4294967295 (got 4294967296)'],
  ['logging-unknown-key', 'LiveKit has json, vm does not manage it', lk('    logging: { json: true }\n'), '6:16: unknown key "json"; allowed here: level'],
  ['logging-level-typo', 'warning is spelt warn', lk('    logging: { level: warning }\n'), '6:23: level must be one of debug, info, warn, error; got "warning" (did you mean "warn"?)'],
  ['logging-level-number', 'a level that is a number', lk('    logging: { level: 3 }\n'), '6:23: level must be text, got 3; put it in quotes: "3"'],
  ['health-unknown-key', 'a health path: LiveKit has no /health', lk('    health: { path: /health }\n'), '6:15: unknown key "path"; allowed here: timeout'],
  ['health-timeout-words', 'a timeout in words', lk('    health: { timeout: soon }\n'), '6:24: timeout must be a duration such as 500ms, 30s or 2m, or a number of seconds (got soon)'],
  ['health-timeout-hours', 'hours are not a unit', lk('    health: { timeout: 1h }\n'), '6:24: timeout must be a duration such as 500ms, 30s or 2m, or a number of seconds (got 1h)'],
  ['health-timeout-zero-number', 'a timeout of 0 seconds', lk('    health: { timeout: 0 }\n'), '6:24: timeout must be greater than 0 (got 0)'],
  ['health-timeout-negative', 'a negative timeout', lk('    health: { timeout: -5 }\n'), '6:24: timeout must be greater than 0 (got -5)'],
  ['health-timeout-number-too-long', 'more than an hour, in seconds', lk('    health: { timeout: 3601 }\n'), '6:24: timeout must be at most 3600 (got 3601)'],
  ['health-timeout-minutes-too-long', 'more than an hour, in minutes', lk('    health: { timeout: 61m }\n'), '6:24: timeout must be longer than 0 and at most 1 hour (got "61m")'],
  ['health-timeout-list', 'a list of timeouts', lk('    health: { timeout: [30s] }\n'), '6:24: timeout must be a duration such as 30s or a number of seconds, got a list'],

  // ── hostile and broken YAML ──
  ['deep-flow-lists', '10,000 nested [', `version: 1\nx: ${'['.repeat(10000)}${']'.repeat(10000)}\n`, '3:36: the file nests more than 32 levels deep; a services file needs about 6'],
  ['deep-flow-maps', '5,000 nested {', `version: 1\nx: ${'{a: '.repeat(5000)}1${'}'.repeat(5000)}\n`, '3:132: the file nests more than 32 levels deep; a services file needs about 6'],
  ['deep-block-lists', '5,000 nested block lists on one line', `version: 1\nx:\n${'- '.repeat(5000)}a\n`, '4:65: the file nests more than 32 levels deep; a services file needs about 6'],
  ['deep-block-maps', '40 nested mappings', `version: 1\n${Array.from({ length: 40 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')}\n`, '35:33: the file nests more than 32 levels deep; a services file needs about 6'],
  ['many-anchors', '2,000 anchors on one value: problems are cut to 20', `version: 1\nx: ${'&a '.repeat(2000)}1\n`, '3:7: YAML syntax: A node can have at most one anchor'],
  ['alias-bomb-lists', 'a billion laughs, in flow lists', `version: 1\na: &a [x, x, x, x, x, x, x, x, x, x]\n${'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`).join('\n')}\n`, '4:8: YAML aliases expand too much (limit 100)'],
  ['alias-bomb-maps', 'a billion laughs, in mappings', `version: 1\na: &a {k0: x, k1: x, k2: x, k3: x, k4: x, k5: x, k6: x, k7: x, k8: x, k9: x}\n${'bcdefghi'.split('').map((c, i) => `${c}: &${c} {${Array.from({ length: 10 }, (_, j) => `k${j}: *${'abcdefgh'[i]}`).join(', ')}}`).join('\n')}\n`, '4:12: YAML aliases expand too much (limit 100)'],
  ['merge-key', '<< is an ordinary key in YAML 1.2', 'version: 1\nbase: &base { port: 7880 }\nservices:\n  livekit:\n    <<: *base\n    version: 1.9.0\n', '3:1: unknown key "base"'],
  ['python-tag', 'a tag that would run code in some parsers', 'version: 1\nservices: !!python/object/apply:os.system ["id"]\n', '3:11: YAML syntax: Unresolved tag: tag:yaml.org,2002:python/object/apply:os.system'],
  ['yaml-directive-2', 'a YAML version that does not exist', '%YAML 9.9\n---\nversion: 1\n', '2:7: YAML syntax: Unsupported YAML version 9.9'],
  ['duplicate-top-key', 'services twice: the second would win silently', 'version: 1\nservices: {}\nservices: {}\n', '4:1: duplicate key "services" (first set on line 3): each key may appear once'],
  ['duplicate-key-flow', 'a key twice inside a flow mapping', lk('    rtc: { tcp_port: 7881, tcp_port: 7882 }\n'), '6:28: duplicate key "tcp_port" (first set on line 6): each key may appear once'],
  ['tab-in-flow-indent', 'a tab indenting a nested key', 'version: 1\nservices:\n  livekit:\n\tversion: 1.9.0\n', '5:1: tabs cannot indent YAML; use spaces'],
  ['unclosed-quote', 'a quote never closed', lk('    logging: { level: "info }\n'), '7:1: YAML syntax: Missing closing "quote'],
  ['unclosed-flow-map', 'a flow mapping never closed', lk('    room: { auto_create: true\n    port: 7880\n'), '7:5: YAML syntax: Flow map in block collection must be sufficiently indented and end with a }'],
  ['list-as-key', 'a list used as a key', 'version: 1\n? [a, b]\n: 1\n', '3:3: keys must be plain names, not lists or mappings'],
  ['empty-key', 'a key with no name', 'version: 1\n"": 1\n', '3:1: unknown key ""; allowed here: version, supervisor, services, clients'],
  ['number-key', 'a number as a key', 'version: 1\n1: livekit\n', '3:1: unknown key "1"; allowed here: version, supervisor, services, clients'],
  ['bidi-key', 'a right-to-left override in a key name is shown escaped', 'version: 1\n"servi\u202eces": {}\n', '3:1: unknown key "servi\\u202eces"'],
  ['escape-sequence-value', 'a terminal escape sequence in a value is shown escaped', 'version: 1\nservices:\n  livekit:\n    version: "\\e[2J1.9.0"\n', '5:14: version must be an exact X.Y.Z such as 1.9.0, without a leading v (got "\\u001b[2J1.9.0")'],
  ['nul-in-value', 'a NUL character in a quoted value', lk('    logging: { level: "in\\0fo" }\n'), '6:23: level must be one of debug, info, warn, error; got "in\\u0000fo"'],
  ['long-key', 'a 1000-character key is cut short in the message', `version: 1\n${'k'.repeat(1000)}: 1\n`, `3:1: unknown key "${'k'.repeat(57)}..."`],
  ['long-implicit-key', 'an implicit key over 1024 characters', `version: 1\n${'k'.repeat(1100)}: 1\n`, '3:1: YAML syntax: The : indicator must be at most 1024 chars after the start of an implicit block mapping key'],
  ['crlf-line-ends', 'Windows line ends still count lines right', 'version: 1\r\nservices:\r\n  livekit:\r\n    version: 1.9.0\r\n    port: 99999\r\n', '6:11: port must be at most 65535 (got 99999)'],
  ['bom-and-error', 'a byte order mark does not shift columns', '\uFEFFversion: 1\nservices:\n  livekit:\n    version: 1.9.0\n    port: 0\n', '6:11: port must be at least 1 (got 0)'],
];

/** Files whose bytes are not UTF-8 text: [name, why, bytes after the comment line, expected]. */
const byteCases = [
  ['utf16', 'saved as UTF-16 by an editor', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('version: 1\n', 'utf16le')]), '2:1: the file is not UTF-8 text; save it as UTF-8'],
  ['windows-1252-quotes', 'curly quotes saved as Windows-1252', Buffer.concat([Buffer.from('version: 1\nservices:\n  livekit:\n    version: '), Buffer.from([0x93]), Buffer.from('1.9.0'), Buffer.from([0x94]), Buffer.from('\n')]), '5:14: the file is not UTF-8 text; save it as UTF-8'],
  ['overlong-utf8', 'an overlong encoding of /', Buffer.concat([Buffer.from('version: 1\nx: "'), Buffer.from([0xc0, 0xaf]), Buffer.from('"\n')]), '3:5: the file is not UTF-8 text; save it as UTF-8'],
  ['binary-junk', 'a binary file', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0x0a]), '2:11: the file is not UTF-8 text; save it as UTF-8'],
];

function render() {
  const files = new Map();
  const seen = new Set();
  const add = (name, why, body, expected) => {
    if (seen.has(name)) throw new Error(`duplicate case ${name}`);
    seen.add(name);
    const file = `${PREFIX}${name}.yaml`;
    files.set(file, Buffer.concat([Buffer.from(`# ${why}\n`), Buffer.isBuffer(body) ? body : Buffer.from(body)]));
    files.set(`${PREFIX}${name}.expected`, Buffer.from(`${file}:${expected}\n`));
  };
  for (const [name, why, text, expected] of cases) add(name, why, text, expected);
  for (const [name, why, bytes, expected] of byteCases) add(name, why, bytes, expected);
  return files;
}

const files = render();
const existing = readdirSync(outDir).filter((f) => f.startsWith(PREFIX));
if (process.argv.includes('--check')) {
  const stale = [...files].filter(([f, content]) => !existing.includes(f) || !readFileSync(join(outDir, f)).equals(content)).map(([f]) => f);
  const extra = existing.filter((f) => !files.has(f));
  if (stale.length + extra.length > 0) {
    console.error(`test/fixtures/invalid is out of date (${[...stale, ...extra].join(', ')}): run node scripts/gen-invalid-corpus.mjs`);
    process.exit(1);
  }
  console.log(`test/fixtures/invalid: ${files.size / 2} generated cases up to date`);
} else {
  for (const f of existing) if (!files.has(f)) rmSync(join(outDir, f));
  for (const [f, content] of files) writeFileSync(join(outDir, f), content);
  console.log(`wrote ${files.size / 2} cases (${files.size} files) to test/fixtures/invalid`);
}
