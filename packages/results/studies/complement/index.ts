// Question 2: what lives outside the top directions? The trained r=64 LoRA update cut into singular
// components, and the part of it outside the r=8 update's subspaces, scored post hoc and trained.
import { cell, defineStudy, groupCell } from '../define.ts';

export default defineStudy({
  id: 'complement',
  order: 2,
  title: '2. What lives outside the top directions?',
  intro: 'The trained r=64 LoRA update cut into its singular components 1..8 and 9..64 (svd-slice), the part outside the r=8 update\'s subspaces (lora-complement post hoc), and a fresh r=64 update trained inside that complement.',
  empty: 'No svd-slice or lora-complement runs yet.',
  methods: { complement: 'lora-complement', slice: 'svd-slice' },
  chart: {
    page: 'analysis', anchor: 'complement', label: 'Analysis: subspace similarity and the complement',
    caption: 'The part of each trained r=64 update outside its r=8 partner\'s subspaces (lora-complement), beside the updates it comes from.',
  },
  tables({ tasks, groupsOf, rankGroup, ref }) {
    const sliceCell = (task: string, from: number, to: number) =>
      cell(groupsOf('svd-slice', task).find((g) => g.config.from === from && g.config.to === to)?.stats);
    const complementCell = (task: string, mode: string) => cell(groupsOf('lora-complement', task).find((g) => g.config.mode === mode)?.stats);
    const rows = tasks.filter((t) => groupsOf('svd-slice', t.id).length + groupsOf('lora-complement', t.id).length > 0).map((t) => [
      t.id, groupCell(rankGroup('lora', t.id, 8)), groupCell(rankGroup('lora', t.id, 64)), sliceCell(t.id, 1, 8), sliceCell(t.id, 9, 64),
      complementCell(t.id, 'posthoc'), complementCell(t.id, 'train'), ref('none', t.id),
    ]);
    return rows.length ? [{
      headers: ['task', 'lora r=8', 'lora r=64', 'r=64 components 1..8', 'r=64 components 9..64', 'r=64 minus r=8 subspaces (post hoc)', 'r=64 trained in the complement', 'frozen'],
      rows,
    }] : [];
  },
});
