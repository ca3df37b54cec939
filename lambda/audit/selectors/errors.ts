/** The one error every selector parser in the core throws for bad input. */
export class SelectorSyntaxError extends Error {
  override readonly name = 'SelectorSyntaxError';
  constructor(
    message: string,
    /** Character offset in a string selector, when known. */
    readonly position?: number,
  ) {
    super(message);
  }
}
