// Facts about a run that come from the registries rather than from training (method family,
// task tier and metric, model size). Resolved with the spec, before any run starts, so even a
// run whose worker died can be recorded properly.
export interface RunMeta {
  method: { family: string; title?: string; paper?: { title: string; url: string; year?: number }; description?: string };
  task: { tier: 'synthetic' | 'real'; family: 'simple' | 'reasoning'; primary_metric: string };
  model: { params: number };
}
