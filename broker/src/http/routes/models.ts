// GET /v1/models — the models this caller may use, in OpenAI's list format, with each model's
// context window, output limit and vision from the policy (modelListSchema); GET /v1/models/{id} —
// one of them (the `openai` client's models.retrieve).
import type { Request, Response } from "express";
import type { ModelEntry, ModelList, ModelPolicy } from "@tollgate/shared";
import { allowedModel } from "./model-access.js";
import type { PolicyStore } from "../../policy/policy-store.js";

function entry(model: ModelPolicy, created: number): ModelEntry {
  return {
    id: model.name,
    object: "model",
    created,
    owned_by: "tollgate",
    context_window: model.contextWindow,
    max_output_tokens: model.maxOutputTokens,
    vision: model.vision,
  };
}

export function modelsHandler(policy: PolicyStore) {
  return (_req: Request, res: Response): void => {
    const current = policy.current();
    const allowed = res.locals.identity?.user.models ?? new Set<string>();
    const list: ModelList = {
      object: "list",
      data: [...current.models.values()].filter((model) => allowed.has(model.name)).map((model) => entry(model, current.loadedAtSeconds)),
    };
    res.json(list);
  };
}

export function modelHandler(policy: PolicyStore) {
  return (req: Request, res: Response): void => {
    const current = policy.current();
    // Model names may hold "/" (the route's wildcard gives the segments).
    const raw = req.params.id as string | string[] | undefined;
    const id = Array.isArray(raw) ? raw.join("/") : String(raw ?? "");
    const user = res.locals.identity!.user;
    // As the chat route answers a model: 404 with the user's models when unknown, 403 when not theirs.
    res.json(entry(allowedModel(current.models.get(id), id, user), current.loadedAtSeconds));
  };
}
