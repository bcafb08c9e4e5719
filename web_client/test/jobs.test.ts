import { describe, expect, it } from 'vitest';
import { jobErrorText } from '../src/lib/jobs';
import { JobStatus } from '../src/types';

describe('jobErrorText', () => {
  it('shows the last log line without its exception name', () => {
    const job = { _id: 'j', status: JobStatus.ERROR, log: ['Error: This file is not an image the server can read ("broken.tif" is not a known file format).'] };
    expect(jobErrorText(job)).toBe('The conversion failed: This file is not an image the server can read ("broken.tif" is not a known file format).');
  });

  it('reduces a traceback to its message', () => {
    const log = 'Traceback (most recent call last):\n  File "x.py", line 3, in convert\n    raise ValueError("bad tile")\nValueError: bad tile\n';
    expect(jobErrorText({ _id: 'j', status: JobStatus.ERROR, log })).toBe('The conversion failed: bad tile');
  });

  it('falls back to the progress message, and names cancellation', () => {
    expect(jobErrorText({ _id: 'j', status: JobStatus.ERROR, log: [], progress: { message: 'Reading' } })).toBe('The conversion failed: Reading');
    expect(jobErrorText({ _id: 'j', status: JobStatus.CANCELED, log: [] })).toBe('The conversion was cancelled.');
  });
});
