// Runs the dativo CLI in this process and prints {"seconds", "cpuSeconds", "peakRssMb", "exitCode"}
// as the last line of stdout: peak RSS is VmHWM, the kernel's high-water mark of this process;
// cpuSeconds is user + system time of the process (all its threads) during the command.
import { readFileSync } from 'node:fs';
import { main } from '@dativo/cli';

const started = performance.now();
const cpuStart = process.cpuUsage();
const exitCode = await main(process.argv.slice(2));
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuStart);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
const peakRssMb = hwm ? Number(hwm[1]) / 1024 : process.memoryUsage().rss / 1048576;
process.stdout.write(`${JSON.stringify({ seconds, cpuSeconds, peakRssMb, exitCode })}\n`);
process.exit(exitCode);
