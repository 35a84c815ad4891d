/**
 * The viewer a request gets from its role, and the checks made on it before anything is read:
 * only declared roles count, anonymous requests take the configured anonymous role or nothing,
 * a hidden field (and every field derived from it) is refused for filters, sorts and aggregates,
 * and writes and admin operations need the role's flags — an admin role that does not see every
 * customer and field is refused even when a config that skipped `config check` declares it.
 * The row rules themselves are exercised over a running server (own-with-team, ownership, held).
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { CrmlinkError } from '../../core/errors.js';
import { anonymousViewer, assertNotHidden, isHidden, requireAdmin, requireWrite, rowRuleParent, viewerFor, type Viewer } from '../../schema/security.js';

function config(auth: Record<string, unknown>) {
  return parseConfig(JSON.stringify({ hub: { dialect: 'sqlite', connection: { filename: ':memory:' } }, sources: {}, server: { auth } })).config;
}

const ROLES = {
  boss: { customers: 'all', write: true, admin: true },
  sales: { customers: 'own', write: true, hide: ['Invoice.balance'] },
  east: { customers: 'team', write: false },
  guest: { customers: 'all', write: false, hide: ['Customer.creditLimit'] },
};

function refused(fn: () => unknown): CrmlinkError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CrmlinkError);
    expect((e as CrmlinkError).code).toBe('FORBIDDEN');
    return e as CrmlinkError;
  }
  throw new Error('expected FORBIDDEN');
}

describe('viewerFor', () => {
  const cfg = config({ mode: 'apiKey', apiKeys: [{ key: 'root-key-0123456789ab', user: 'root', role: 'boss' }], roles: ROLES });

  it("takes the role's rules; the team only when one is given", () => {
    expect(viewerFor(cfg, { user: 'alice', role: 'sales', team: 'west' })).toEqual({
      user: 'alice',
      role: 'sales',
      team: 'west',
      customers: 'own',
      hidden: new Set(['Invoice.balance', 'Customer.receivableBalance']),
      write: true,
      admin: false,
    });
    const boss = viewerFor(cfg, { user: 'root', role: 'boss' });
    expect(boss).toEqual({ user: 'root', role: 'boss', customers: 'all', hidden: new Set(), write: true, admin: true });
    expect('team' in boss).toBe(false);
    expect('team' in viewerFor(cfg, { user: 'x', role: 'east', team: '' })).toBe(false);
  });

  it('refuses a role that is not declared, and names where roles are declared', () => {
    for (const role of ['nobody', 'toString', '__proto__', 'constructor']) {
      const e = refused(() => viewerFor(cfg, { user: 'x', role }));
      expect(e.message).toBe(`role "${role}" is not declared under server.auth.roles`);
      expect(e.context).toMatchObject({ setting: 'server.auth.roles' });
    }
  });
});

describe('anonymousViewer', () => {
  it('is the configured anonymous role, as user "anonymous"', () => {
    const v = anonymousViewer(config({ mode: 'none', anonymousRole: 'guest', roles: ROLES }));
    expect(v).toMatchObject({ user: 'anonymous', role: 'guest', customers: 'all', write: false, admin: false });
    expect(v.hidden.has('Customer.creditLimit')).toBe(true);
  });

  it('without an anonymous role nothing is served anonymously', () => {
    const e = refused(() => anonymousViewer(config({ mode: 'none', roles: ROLES })));
    expect(e.message).toContain('no anonymous access: server.auth.mode is none and server.auth.anonymousRole is not set');
    expect(e.context).toMatchObject({ setting: 'server.auth.anonymousRole' });
  });
});

const viewer = (over: Partial<Viewer>): Viewer => ({ user: 'u', role: 'r', customers: 'all', hidden: new Set(), write: false, admin: false, ...over });

describe('field masks', () => {
  it('a field is hidden exactly when its coordinate is listed', () => {
    const v = viewer({ hidden: new Set(['Customer.creditLimit']) });
    expect(isHidden(v, 'Customer', 'creditLimit')).toBe(true);
    expect(isHidden(v, 'Customer', 'name')).toBe(false);
    expect(isHidden(v, 'Invoice', 'creditLimit')).toBe(false);
    expect(isHidden(viewer({}), 'Customer', 'creditLimit')).toBe(false);
  });

  it('filtering, sorting or aggregating on a hidden field is refused, naming the field and the role', () => {
    const v = viewer({ role: 'guest', hidden: new Set(['Customer.creditLimit']) });
    expect(() => assertNotHidden(v, 'Customer', ['name', 'code'], 'filtering')).not.toThrow();
    expect(() => assertNotHidden(v, 'Customer', [], 'filtering')).not.toThrow();
    const e = refused(() => assertNotHidden(v, 'Customer', ['name', 'creditLimit'], 'sorting'));
    expect(e.message).toBe('sorting on Customer.creditLimit is not allowed for role "guest" (the field is hidden)');
    expect(e.context).toMatchObject({ entity: 'Customer', field: 'creditLimit' });
  });
});

describe('write and admin', () => {
  it('a role without write may not write, and is told which setting says so', () => {
    expect(() => requireWrite(viewer({ write: true }), 'update customers')).not.toThrow();
    const e = refused(() => requireWrite(viewer({ role: 'east' }), 'update customers'));
    expect(e.message).toBe('role "east" may not update customers (server.auth.roles.east.write is false)');
    expect(e.context).toMatchObject({ setting: 'server.auth.roles.east.write' });
  });

  it('admin needs the admin flag, and a role seeing every customer and field', () => {
    expect(() => requireAdmin(viewer({ admin: true }), 'resolve conflicts')).not.toThrow();
    const notAdmin = refused(() => requireAdmin(viewer({ role: 'sales' }), 'resolve conflicts'));
    expect(notAdmin.message).toBe('role "sales" may not resolve conflicts (needs admin)');
    expect(notAdmin.context).toMatchObject({ setting: 'server.auth.roles.sales.admin' });
    for (const narrow of [viewer({ role: 'x', admin: true, customers: 'team', team: 't' }), viewer({ role: 'x', admin: true, hidden: new Set(['Customer.creditLimit']) })]) {
      const e = refused(() => requireAdmin(narrow, 'resolve conflicts'));
      expect(e.message).toMatch(/^role "x" may not resolve conflicts: an admin role sees every customer/);
      expect(e.context).toMatchObject({ setting: 'server.auth.roles.x' });
    }
  });
});

describe('row-rule parents', () => {
  it('order and invoice lines go through their order and invoice; customer data through the customer; the rest has none', () => {
    expect(rowRuleParent('SalesOrderLine')).toEqual({ via: 'orderId', entity: 'SalesOrder' });
    expect(rowRuleParent('InvoiceLine')).toEqual({ via: 'invoiceId', entity: 'Invoice' });
    expect(rowRuleParent('Invoice')).toEqual({ via: 'customerId', entity: 'Customer' });
    expect(rowRuleParent('Customer')).toBeUndefined();
    expect(rowRuleParent('Product')).toBeUndefined();
  });
});
