/** Who is asking, as the row rules and field masks see them (security.ts builds it from the config). */
export interface Viewer {
  user: string;
  role: string;
  team?: string;
  customers: 'all' | 'team' | 'own';
  /** Schema coordinates masked for this role, e.g. Customer.creditLimit. */
  hidden: ReadonlySet<string>;
  write: boolean;
  admin: boolean;
}
