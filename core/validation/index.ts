/** The validation module shared by every node of the package. */
export type { FieldError, ItemValidator, Validation, ValidatorOptions } from './types';
export {
	compileDateNormalizer,
	isCalendarDate,
	type DateNormalizer,
	type DateNormalizerOptions,
	type DateOutputForm,
	type DateResult,
} from './dates';
export {
	formatFieldError,
	formatItemErrors,
	summarizeInvalid,
	type InvalidItem,
	type ItemLabel,
} from './format';
export {
	DEFAULT_MAX_DEPTH,
	MAX_ERRORS_PER_ITEM,
	checkNesting,
	describeValue,
	expectedGot,
	placeholderReason,
	quote,
} from './checks';
