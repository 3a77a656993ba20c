import { doctor as diagnose, formatDoctorReport } from '../inspect/doctor';
import type { Command } from './command';
import { toJson } from './format';

export const doctor: Command = {
  summary: 'validation explained: what each problem of a GGUF file means, with the bytes around it (exit 1 if invalid)',
  usage: 'llamascope doctor FILE [--json]',
  positionals: 1,
  options: { json: { type: 'boolean' } },
  run([path], { json }) {
    const report = diagnose(path);
    console.log(json ? toJson(report) : formatDoctorReport(report));
    return report.valid ? 0 : 1;
  },
};
