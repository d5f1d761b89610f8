// The workspace's shared vitest settings.
export { default } from '../../vitest.shared.ts';
