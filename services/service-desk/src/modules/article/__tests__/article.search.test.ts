import { describe, expect, it } from 'vitest';
import { score, termSet, terms } from '../article.search.js';

describe('knowledge-base terms', () => {
  it('reads English words in lower case without stop words, folding plurals', () => {
    expect(terms('How do I clear the Printer jams?')).toEqual(['clear', 'printer', 'jam']);
    expect(terms('batteries, Glass, status 3 x')).toEqual(['battery', 'glass', 'status', '3']);
  });

  it('splits Chinese into overlapping character pairs, a lone character standing alone', () => {
    expect(terms('打印机卡纸')).toEqual(['打印', '印机', '机卡', '卡纸']);
    expect(terms('退货，换')).toEqual(['退货', '换']);
    // Function words and particles split the run first: no pairs across them.
    expect(terms('我的打印机又卡纸了怎么办')).toEqual(['打印', '印机', '卡纸']);
    // Mixed text: the Latin model number is a word, the Chinese around it pairs.
    expect(terms('X200打印机')).toEqual(['x200', '打印', '印机']);
  });

  it('normalises full-width letters and digits (NFKC)', () => {
    expect(terms('ＸＹＺ１２３')).toEqual(['xyz123']);
    expect(termSet('打印 打印', 'Print prints')).toEqual(['打印', 'print']);
  });
});

describe('knowledge-base score', () => {
  const article = { title: '打印机卡纸怎么处理', body: 'Open the rear cover and remove the paper.', keywords: ['paper jam'], productIds: ['p1'] };

  it('weights terms by the field they are found in: title 1, keywords 0.8, body 0.6', () => {
    expect(score(terms('打印机卡纸'), article)).toBe(1);
    expect(score(terms('jam'), article)).toBe(0.8);
    expect(score(terms('rear cover'), article)).toBe(0.6);
    // Half the terms found (in the title): 0.5.
    expect(score(terms('卡纸 sunflower'), article)).toBe(0.5);
    expect(score(terms('sunflower'), article)).toBe(0);
  });

  it('adds 0.2 for the product asked about (capped at 1), halves articles about other products only', () => {
    expect(score(terms('rear cover'), article, 'p1')).toBe(0.8);
    expect(score(terms('打印机卡纸'), article, 'p1')).toBe(1);
    expect(score(terms('rear cover'), article, 'p2')).toBe(0.3);
    expect(score(terms('sunflower'), article, 'p1')).toBe(0.2);
    // Articles about no product in particular keep their score.
    expect(score(terms('rear cover'), { ...article, productIds: [] }, 'p2')).toBe(0.6);
  });
});
