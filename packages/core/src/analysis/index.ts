// Analysis of trained updates: SVD, subspace similarity, amplification, norm-weight distributions.
export * from './svd.ts';
export * from './lowrank.ts';
export * from './norms.ts';
