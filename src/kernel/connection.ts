// The connection file Jupyter writes for every kernel it starts: where to bind the five sockets and
// how to sign messages. Format: https://jupyter-client.readthedocs.io/en/latest/kernels.html#connection-files
import * as fs from 'node:fs';

export interface ConnectionInfo {
  transport: 'tcp' | 'ipc';
  ip: string;
  shell_port: number;
  control_port: number;
  iopub_port: number;
  stdin_port: number;
  hb_port: number;
  /** HMAC key; empty means messages are not signed. */
  key: string;
  /** e.g. 'hmac-sha256'. */
  signature_scheme: string;
}

const PORTS = ['shell_port', 'control_port', 'iopub_port', 'stdin_port', 'hb_port'] as const;

export function readConnectionFile(file: string): ConnectionInfo {
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read the connection file ${file}: ${(e as Error).message}. Jupyter writes this file when it starts a kernel; start the kernel through Jupyter (e.g. \`jupyter console --kernel llamascope\`).`);
  }
  const problem = (what: string) => new Error(`connection file ${file}: ${what}`);
  const transport = parsed.transport ?? 'tcp';
  if (transport !== 'tcp' && transport !== 'ipc') throw problem(`transport must be 'tcp' or 'ipc', got ${JSON.stringify(transport)}`);
  if (typeof parsed.ip !== 'string' || parsed.ip === '') throw problem('needs an "ip"');
  for (const port of PORTS) {
    if (!Number.isInteger(parsed[port])) throw problem(`needs an integer "${port}"`);
  }
  const key = parsed.key ?? '';
  if (typeof key !== 'string') throw problem('"key" must be a string');
  const scheme = parsed.signature_scheme ?? 'hmac-sha256';
  if (typeof scheme !== 'string') throw problem('"signature_scheme" must be a string');
  return { ...(parsed as unknown as ConnectionInfo), transport, key, signature_scheme: scheme };
}

/** The ZeroMQ address of one port, as jupyter_client forms it (ipc: `<ip>-<port>`). */
export function endpoint(info: ConnectionInfo, port: number): string {
  return info.transport === 'tcp' ? `tcp://${info.ip}:${port}` : `ipc://${info.ip}-${port}`;
}
