// Question 8: which layers should LoRA target? LoRA on the attention query and value projections only
// (the LoRA paper's choice) against every linear layer (the default), at r = 1, 8 and 64: the
// `targets-qv` and `targets-all-linear` blocks of packages/bench/grids/leaderboard.yaml.
import { atLrFactor, chooseGroup, defineStudy, DIVERGED_NOTE, groupCell, groupsAt, int, typicalTraining, type StudyConfig } from '../define.ts';

export const RANKS = [1, 8, 64];
export const TARGETS: { label: string; target_modules: string[] }[] = [
  { label: 'q,v', target_modules: ['q', 'v'] },
  { label: 'all-linear', target_modules: ['all-linear'] },
];

export default defineStudy({
  id: 'targets',
  order: 8,
  title: '8. Which layers should LoRA target?',
  intro: 'LoRA on the attention query and value projections only (q,v, the LoRA paper\'s choice) against every linear layer (all-linear, the default), at r = 1, 8 and 64, each at its default learning rate: test score and trainable parameters.',
  empty: 'No LoRA runs on q,v beside runs on every linear layer yet.',
  grid: { name: 'leaderboard', experiments: ['targets-qv', 'targets-all-linear'] },
  tables({ agg, tasks }) {
    const typical = typicalTraining(agg);
    const at = (task: (typeof tasks)[number], rank: number, target_modules: string[]) => {
      const want: StudyConfig = { label: '', method: 'lora', rank, set: { target_modules } };
      const groups = groupsAt(agg, want, task.id).filter((g) => atLrFactor(agg, 1)(g) && typical(g));
      const scored = groups.filter((g) => g.stats.mean !== null);
      // A configuration whose every run diverged is an answer too (all-linear LoRA on nli), not a gap.
      return chooseGroup(scored.length > 0 ? scored : groups.filter((g) => g.counts.diverged > 0), task.direction);
    };
    return tasks.flatMap((t) => {
      const cells = RANKS.map((r) => TARGETS.map((x) => at(t, r, x.target_modules)));
      // Answered where both targets have runs at one rank at least.
      if (!cells.some((pair) => pair.every((g) => g !== undefined))) return [];
      const diverged = cells.some((pair) => pair.some((g) => g !== undefined && g.counts.diverged > 0));
      return [{
        title: `${t.id} (${t.primaryMetric})`,
        headers: ['r', ...TARGETS.flatMap((x) => [x.label, `${x.label} trainable`])],
        rows: RANKS.map((r, i) => [`r=${r}`, ...cells[i]!.flatMap((g) => [groupCell(g), g ? int(g.params.trainable) : '—'])]),
        ...(diverged ? { note: `${DIVERGED_NOTE} — where no run was made yet.` } : {}),
      }];
    });
  },
});
