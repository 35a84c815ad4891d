/** Progress of a long backup, verification or restore, for a progress line or a log. */
export interface BackupProgress {
  phase: 'copy' | 'checksum' | 'verify' | 'restore';
  done: number;
  /** null when unknown. */
  total: number | null;
  unit: 'pages' | 'tables' | 'bytes';
}
