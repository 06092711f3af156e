/** Writing the build report file (SPEC §4.5) so a reader never sees half a report. */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BuildReport } from '@strata/core';

/**
 * Writes `report` as pretty JSON to `file`: to a temporary file in the same directory (created when
 * missing), then renamed over `file`, which is atomic on one file system. The temporary file is
 * removed when the write fails.
 */
export async function writeReportFile(file: string, report: BuildReport, options: { signal?: AbortSignal } = {}): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const temporary = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temporary, `${JSON.stringify(report, null, 2)}\n`, { signal: options.signal });
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}
