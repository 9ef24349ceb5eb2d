import { describe, expect, it } from 'vitest';
import { isClosedType, QUESTION_TYPES, scaleProblem } from '../../src/formats/survey-item.js';

describe('survey vocabulary', () => {
  it('likert, yesno and agreement are closed; open and types from elsewhere are not', () => {
    expect(QUESTION_TYPES.filter(isClosedType)).toEqual(['likert', 'yesno', 'agreement']);
    expect(isClosedType('multiple_choice')).toBe(false);
  });

  it('a scale needs one label per point when it has labels', () => {
    expect(scaleProblem({ points: 5 })).toBeUndefined();
    expect(scaleProblem({ points: 2, labels: ['No', 'Yes'] })).toBeUndefined();
    expect(scaleProblem({ points: 5, labels: ['a', 'b'] })).toBe('5 points but 2 labels');
  });
});
