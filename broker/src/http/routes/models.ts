// GET /v1/models — the models this caller may use, in OpenAI's list format.
import type { Request, Response } from "express";
import type { ModelList } from "@tollgate/shared";
import type { PolicyStore } from "../../policy/policy-store.js";

export function modelsHandler(policy: PolicyStore) {
  return (_req: Request, res: Response): void => {
    const current = policy.current();
    const allowed = res.locals.identity?.user.models ?? new Set<string>();
    const list: ModelList = {
      object: "list",
      data: [...current.models.keys()]
        .filter((id) => allowed.has(id))
        .map((id) => ({ id, object: "model", created: current.loadedAtSeconds, owned_by: "tollgate" })),
    };
    res.json(list);
  };
}
