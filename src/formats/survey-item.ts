/**
 * The survey vocabulary every record format shares (schemas/survey-item.schema.json): the
 * question types, an item's answer scale and the question as records carry it. The question
 * bank (src/survey), the ChatML and prediction records (this folder) and the survey metrics
 * (src/metrics) all use these declarations.
 */

/** The paper's four question types, in the paper's order of Figure 2. */
export const QUESTION_TYPES = ['open', 'likert', 'yesno', 'agreement'] as const;
export type QuestionType = (typeof QUESTION_TYPES)[number];

const CLOSED: ReadonlySet<string> = new Set<QuestionType>(['likert', 'yesno', 'agreement']);

/**
 * Closed types carry an answer scale and have an answer level to read. Takes any string because
 * prediction files from elsewhere may carry other types; those count as open.
 */
export function isClosedType(type: string): boolean {
  return CLOSED.has(type);
}

/**
 * A closed item's answer scale: `points` levels (>= 2), `labels[i]` names level i + 1. The
 * question bank always gives labels and `reverse_scored`; a prediction file from elsewhere may
 * give `points` only.
 */
export interface AnswerScale {
  points: number;
  labels?: readonly string[];
  /** A higher level means less of the item's attitude. */
  reverse_scored?: boolean;
}

/** A scale as the question bank defines it: every field present. */
export type ItemScale = Required<AnswerScale>;

/** The question as stored in dataset and ChatML records (from the question bank: an ItemScale). */
export interface RecordQuestion<S extends AnswerScale = AnswerScale> {
  id: string;
  text: string;
  scale?: S;
  construct?: string;
}

/** What a JSON schema cannot state about a scale (one label per point), as `5 points but 3 labels`; undefined when fine. */
export function scaleProblem(scale: AnswerScale): string | undefined {
  if (scale.labels !== undefined && scale.labels.length !== scale.points) return `${scale.points} points but ${scale.labels.length} labels`;
  return undefined;
}
