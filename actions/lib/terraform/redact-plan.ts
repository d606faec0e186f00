/**
 * A copy of `terraform show -json` output that is safe to keep as a file or artifact: every value Terraform
 * marks sensitive (in changes, drift, outputs, planned values, prior state and the root module's sensitive
 * variables) is replaced by a placeholder. The binary plan file itself still holds them.
 */
import { maskStrings, redactValue, SENSITIVE } from './redact.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

function redactChange(change: unknown) {
  if (!isObject(change)) return;
  change.before = redactValue(change.before, change.before_sensitive);
  change.after = redactValue(change.after, change.after_sensitive);
}

function redactModule(module: unknown) {
  if (!isObject(module)) return;
  for (const resource of Array.isArray(module.resources) ? module.resources : []) {
    if (isObject(resource)) resource.values = redactValue(resource.values, resource.sensitive_values);
  }
  for (const child of Array.isArray(module.child_modules) ? module.child_modules : []) redactModule(child);
}

function redactValues(values: unknown) {
  if (!isObject(values)) return;
  for (const output of Object.values(isObject(values.outputs) ? values.outputs : {})) {
    if (isObject(output) && output.sensitive === true) output.value = SENSITIVE;
  }
  redactModule(values.root_module);
}

/**
 * Redacts `plan` (parsed `terraform show -json` output) by Terraform's sensitive marks, then masks the known
 * sensitive values (`mask`) in every string left, since derived values are not always marked.
 */
export function redactPlanJson(plan: Json, mask: (text: string) => string): Json {
  for (const key of ['resource_changes', 'resource_drift']) {
    for (const entry of Array.isArray(plan[key]) ? plan[key] : [])
      if (isObject(entry)) redactChange(entry.change);
  }
  for (const change of Object.values(isObject(plan.output_changes) ? plan.output_changes : {}))
    redactChange(change);
  redactValues(plan.planned_values);
  if (isObject(plan.prior_state)) redactValues(plan.prior_state.values);
  const declared =
    isObject(plan.configuration) && isObject(plan.configuration.root_module)
      ? plan.configuration.root_module.variables
      : undefined;
  if (isObject(plan.variables) && isObject(declared)) {
    for (const [name, variable] of Object.entries(plan.variables)) {
      const declaration = declared[name];
      if (isObject(declaration) && declaration.sensitive === true && isObject(variable))
        variable.value = SENSITIVE;
    }
  }
  return maskStrings(plan, mask) as Json;
}
