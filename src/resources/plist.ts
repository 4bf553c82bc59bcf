// A LaunchAgent plist, from one ServiceSpec (LiveKit's, any service's, vm watch's). Pure. Every value is XML-escaped: paths come from the
// user's file and must not be able to add keys.

import type { ServiceSpec } from '../model.js';

/** Homebrew's prefixes (Apple silicon, Intel) first, so a brew-installed LiveKit is found. */
export const LAUNCHD_PATH = '/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin';

export function renderPlist(svc: ServiceSpec): string {
  const str = (v: string) => `<string>${xml(v)}</string>`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<!-- Managed by vm (Voice Mode). `vm apply` rewrites this file: change voicemode.services.yaml instead. -->',
    '<plist version="1.0">',
    '<dict>',
    `  <key>Label</key>${str(svc.label)}`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...[svc.binary, ...svc.args].map((a) => `    ${str(a)}`),
    '  </array>',
    // With KeepAlive on, launchd starts the job whenever it loads the plist (every login), so
    // "start at login" is decided by launchctl's enable/disable override, which the launchd
    // supervisor sets from autostart; RunAtLoad follows autostart too, for readers of the plist.
    `  <key>RunAtLoad</key>${svc.autostart ? '<true/>' : '<false/>'}`,
    // livekit-server exits 0 after printing a config error: restart on any exit, throttled,
    // and let vm's health check decide whether it works.
    '  <key>KeepAlive</key><true/>',
    '  <key>ThrottleInterval</key><integer>5</integer>',
    `  <key>StandardOutPath</key>${str(svc.logFile)}`,
    `  <key>StandardErrorPath</key>${str(svc.logFile)}`,
    ...(svc.workingDir === undefined ? [] : [`  <key>WorkingDirectory</key>${str(svc.workingDir)}`]),
    '  <key>EnvironmentVariables</key>',
    '  <dict>',
    `    <key>PATH</key>${str(LAUNCHD_PATH)}`,
    ...Object.entries(svc.env ?? {}).map(([k, v]) => `    <key>${xml(k)}</key>${str(v)}`),
    '  </dict>',
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}

function xml(v: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(v)) throw new Error(`refusing to put a control character into a plist: ${JSON.stringify(v)}`);
  return v.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&apos;');
}
