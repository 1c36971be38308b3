/**
 * Word matching for the knowledge base (SVC-4), no search engine: FerretDB v1 has no text index, so
 * each article stores its terms (`tokens`) and a search reads the articles sharing at least one term
 * with the question (`tokens: { $in }`) and ranks them here.
 *
 * Terms: text is NFKC-normalised (full-width letters and digits become ASCII) and lower-cased. Runs of
 * letters/digits in alphabetic scripts are words (English stop words dropped, a plural `s`/`ies`
 * folded). Chinese, Japanese and Korean are written without spaces, and a dictionary segmenter would
 * be a large dependency for short questions, so a run of those characters becomes its overlapping
 * character pairs (bigrams: 打印机卡纸 → 打印 印机 机卡 卡纸), the usual approach of CJK full-text
 * indexes (e.g. Lucene's CJKAnalyzer); common function words split a run first (CJK_STOP); a
 * single character stands alone. A question then matches
 * an article sharing most of its pairs, whatever the word boundaries.
 */

const CJK_CLASS = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}';
const CJK = new RegExp(`[${CJK_CLASS}]`, 'u');
/** A run of CJK characters, or of other letters and digits. */
const RUNS = new RegExp(`[${CJK_CLASS}]+|(?:(?![${CJK_CLASS}])[\\p{L}\\p{N}])+`, 'gu');
/**
 * Chinese function words and particles split a run before pairing (both in articles and questions),
 * so 我的打印机又卡纸了 gives 打印 印机 卡纸 rather than also 我的 的打 机又 又卡 纸了, which would
 * dilute every question's score.
 */
const CJK_STOP = /为什么|怎么样|怎么办|怎么|什么|如何|怎样|我们|你们|他们|一下|可以|[的了吗呢吧啊呀我你他她它又也都很就还请么是在和与]/gu;
const STOP_WORDS = new Set(
  'a an and are as at be but by can could do does did for from has have how i if in is it its me my no not of on or our so that the their them then there these this to was we were what when where which who why will with would you your'.split(' '),
);

function fold(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss') && !word.endsWith('us')) return word.slice(0, -1);
  return word;
}

/** The terms of a text, in order (with repeats). */
export function terms(text: string): string[] {
  const out: string[] = [];
  for (const [run] of text.normalize('NFKC').toLowerCase().matchAll(RUNS)) {
    if (CJK.test(run)) {
      for (const part of run.replace(CJK_STOP, ' ').split(' ')) {
        const chars = [...part];
        if (chars.length === 1) out.push(chars[0]!);
        for (let i = 0; i + 1 < chars.length; i += 1) out.push(chars[i]! + chars[i + 1]!);
      }
    } else if (!STOP_WORDS.has(run) && (run.length > 1 || /\d/.test(run))) {
      out.push(fold(run));
    }
  }
  return out;
}

/** The distinct terms of some texts (what an article stores to be found). */
export function termSet(...texts: string[]): string[] {
  return [...new Set(texts.flatMap((text) => terms(text)))];
}

export interface Searchable {
  title: string;
  body: string;
  keywords: string[];
  productIds: string[];
}

/** Weight of a question term found in the title, the keywords, the body. */
const WEIGHTS = { title: 1, keywords: 0.8, body: 0.6 } as const;
/** Added when the article is about the product asked about; the score of a product-only match. */
export const PRODUCT_BONUS = 0.2;
/** Factor for an article about other products only, when a product was asked about. */
const OTHER_PRODUCT_FACTOR = 0.5;

/**
 * How well an article answers: each distinct question term scores by the best field it is found in,
 * the sum divided by the number of terms (1 = every term in the title). With a product: articles about
 * it get PRODUCT_BONUS, articles about other products only half their score. Rounded to 3 decimals.
 */
export function score(questionTerms: readonly string[], article: Searchable, productId: string | null = null): number {
  const distinct = [...new Set(questionTerms)];
  let text = 0;
  if (distinct.length > 0) {
    const title = new Set(terms(article.title));
    const keywords = new Set(terms(article.keywords.join(' ')));
    const body = new Set(terms(article.body));
    let sum = 0;
    for (const term of distinct) sum += title.has(term) ? WEIGHTS.title : keywords.has(term) ? WEIGHTS.keywords : body.has(term) ? WEIGHTS.body : 0;
    text = sum / distinct.length;
  }
  let result = text;
  if (productId) {
    if (article.productIds.includes(productId)) result = Math.min(1, text + PRODUCT_BONUS);
    else if (article.productIds.length > 0) result = text * OTHER_PRODUCT_FACTOR;
  }
  return Math.round(result * 1000) / 1000;
}
