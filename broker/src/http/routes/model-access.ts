// Which of the policy's models a user may use: one answer for the chat route and the models routes.
import type { ModelPolicy, UserPolicy } from "@tollgate/shared";
import { ApiError, unknownModel } from "../../errors.js";

export /** The policy's model, if this user may use it; else the 404 / 403 that says what they may use. */
function allowedModel(model: ModelPolicy | undefined, requested: string, user: UserPolicy): ModelPolicy {
  const allowed = [...user.models].sort();
  if (!model) throw unknownModel(requested, allowed);
  if (!user.models.has(model.name)) {
    throw new ApiError({
      status: 403,
      type: "permission_error",
      code: "model_not_allowed",
      param: "model",
      message: `Your Tollgate policy does not allow the model "${requested}". Models you may use: ${allowed.join(", ") || "(none)"}.`,
    });
  }
  return model;
}
