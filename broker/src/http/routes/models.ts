// GET /v1/models — the models this caller may use, in OpenAI's list format, with each model's
// context window, output limit and vision from the policy (modelListSchema).
import type { Request, Response } from "express";
import type { ModelList } from "@tollgate/shared";
import type { PolicyStore } from "../../policy/policy-store.js";

export function modelsHandler(policy: PolicyStore) {
  return (_req: Request, res: Response): void => {
    const current = policy.current();
    const allowed = res.locals.identity?.user.models ?? new Set<string>();
    const list: ModelList = {
      object: "list",
      data: [...current.models.values()]
        .filter((model) => allowed.has(model.name))
        .map((model) => ({
          id: model.name,
          object: "model",
          created: current.loadedAtSeconds,
          owned_by: "tollgate",
          context_window: model.contextWindow,
          max_output_tokens: model.maxOutputTokens,
          vision: model.vision,
        })),
    };
    res.json(list);
  };
}
