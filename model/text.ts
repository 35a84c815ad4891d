/**
 * The one rule for folding the width of text: Unicode NFKC (String.prototype.normalize, ICU).
 *
 * NFKC turns full-width ASCII (Ａ１（ ＠) and the ideographic space into ASCII, which is what
 * forms and spreadsheets from Chinese input methods need; it also folds the other compatibility
 * characters the same way: full-width currency signs (￥ → ¥), half-width katakana into
 * full-width ones, CJK compatibility ideographs into their unified characters (U+F9DC → 隆),
 * circled and superscript digits (① ² → 1 2), ligatures (ﬁ → fi), the no-break space, and it
 * composes combining accents (e + ◌́ → é). For recognising one customer across systems all of
 * these are the same text; ideographs, CJK punctuation without a compatibility form (。、【】)
 * and letter case are left alone.
 */
export function halfWidth(text: string): string {
  return text.normalize('NFKC');
}
