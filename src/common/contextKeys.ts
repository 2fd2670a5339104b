// The context keys the extension sets: package.json's `when` clauses read them (a unit test checks both
// agree). Each is set by the one model that owns the state it describes.
export const ContextKey = {
  hasApiKey: 'flora.hasApiKey',
  techniqueFilterActive: 'flora.techniqueFilterActive',
  /** The user added techniques of their own (the palette's Remove Technique needs one). */
  hasAddedTechniques: 'flora.hasAddedTechniques',
  /** A run was started or an output inserted in this profile: the walkthrough checks its steps off. */
  hasStartedRun: 'flora.hasStartedRun',
  hasInsertedOutput: 'flora.hasInsertedOutput',
  /** The Runs view lists only the runs its filter keeps (Filter Runs… / Clear Runs Filter). */
  runsFilterActive: 'flora.runsFilterActive',
  /** A technique was expanded in a technique view (its inputs, outputs and cost shown): "Browse techniques". */
  hasExpandedTechnique: 'flora.hasExpandedTechnique',
  /** Uploads were set up (a target chosen) or a local file went into a run: "Use local files". */
  hasConfiguredUpload: 'flora.hasConfiguredUpload',
} as const;
