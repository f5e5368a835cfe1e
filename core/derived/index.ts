// Derived features: CEL expressions over a group's features and `request.*` fields, compiled once
// at config time and evaluated by the same code for serving and training sets. See docs/DERIVED.md.
export type { CompiledDerived, DerivedDefinition, DerivedInputType, DerivedInputs, DerivedValue } from './types.js';
export { compileDerived } from './compile.js';
export { evaluateDerived, evaluateAllDerived } from './evaluate.js';
export { derivedInputsOf, aggFeatureType, celTypeOf } from './inputs.js';
