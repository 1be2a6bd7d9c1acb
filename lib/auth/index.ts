export * from './roles';
export * from './tokens';
export * from './admin-token';
