// Roles and what each may do. A route names the permission it needs; a token's role
// grants a fixed set of permissions. Admin holds every permission. `predictor` is for
// applications: it may call the inference server and nothing else.

export const ROLES = ['predictor', 'viewer', 'scientist', 'approver', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  'read', // runs, events, metrics, models, artifacts
  'runs:start',
  'runs:cancel',
  'runs:approve',
  'models:alias', // move an alias such as production
  'deployments:manage', // start a rollout, pause / resume / promote / abort one
  'tokens:manage',
  'audit:read',
  'infer', // the inference server's model routes (metadata, ready, infer)
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const GRANTS: Record<Role, readonly Permission[]> = {
  predictor: ['infer'],
  viewer: ['read'],
  scientist: ['read', 'runs:start', 'runs:cancel', 'infer'],
  approver: ['read', 'runs:approve', 'deployments:manage', 'infer'],
  admin: PERMISSIONS,
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function can(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}

/** Roles holding a permission, for error messages and the OpenAPI document. */
export function rolesWith(permission: Permission): Role[] {
  return ROLES.filter((r) => can(r, permission));
}
