import { describe, expect, it } from "vitest";
import { MODEL_CATALOGUE } from "./catalogue.js";
import { listKnownModels, lookupModel } from "./lookup.js";
import { parseBedrockModelId } from "./model-id.js";

const SONNET_4 = "anthropic.claude-sonnet-4-20250514-v1:0";
const SONNET_4_5 = "anthropic.claude-sonnet-4-5-20250929-v1:0";
const HAIKU_4_5 = "anthropic.claude-haiku-4-5-20251001-v1:0";
const OPUS_4_5 = "anthropic.claude-opus-4-5-20251101-v1:0";

function foundationArn(id: string, region = "us-east-1"): string {
  return `arn:aws:bedrock:${region}::foundation-model/${id}`;
}

function profileArn(profileId: string, region = "us-east-1"): string {
  return `arn:aws:bedrock:${region}:123456789012:inference-profile/${profileId}`;
}

describe("lookupModel pricing by scope", () => {
  it("prices older models the same for base, us. and global.", () => {
    for (const id of [SONNET_4, `us.${SONNET_4}`, `global.${SONNET_4}`, `eu.${SONNET_4}`]) {
      expect(lookupModel(id)?.pricing).toEqual({ input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 });
    }
  });

  it("charges geographic profiles of Sonnet 4.5 10% more than base and global.", () => {
    const global = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 };
    const geographic = { input: 3.3, output: 16.5, cacheRead: 0.33, cacheWrite: 4.125 };
    expect(lookupModel(SONNET_4_5)?.pricing).toEqual(global);
    expect(lookupModel(`global.${SONNET_4_5}`)?.pricing).toEqual(global);
    for (const prefix of ["us", "eu", "apac", "jp", "au", "us-gov", "ca"]) {
      expect(lookupModel(`${prefix}.${SONNET_4_5}`)?.pricing).toEqual(geographic);
    }
  });

  it("applies the geographic surcharge to Haiku 4.5 and Opus 4.5", () => {
    expect(lookupModel(`global.${HAIKU_4_5}`)?.pricing.input).toBe(1);
    expect(lookupModel(`us.${HAIKU_4_5}`)?.pricing).toEqual({ input: 1.1, output: 5.5, cacheRead: 0.11, cacheWrite: 1.375 });
    expect(lookupModel(`global.${OPUS_4_5}`)?.pricing).toEqual({ input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25 });
    expect(lookupModel(`us.${OPUS_4_5}`)?.pricing.output).toBe(27.5);
  });

  it("keeps every geographic price at exactly 110% of the global price (to the micro-dollar)", () => {
    for (const entry of MODEL_CATALOGUE) {
      if (!entry.geographicPricing) continue;
      for (const field of ["input", "output", "cacheRead", "cacheWrite"] as const) {
        expect(Math.round(entry.geographicPricing[field] * 1e6), `${entry.baseModelId} ${field}`).toBe(
          Math.round(entry.pricing[field] * 1.1 * 1e6),
        );
      }
    }
  });

  it("reports the scope it priced for", () => {
    expect(lookupModel(SONNET_4_5)?.scope).toBe("base");
    expect(lookupModel(`us.${SONNET_4_5}`)?.scope).toBe("geographic");
    expect(lookupModel(`global.${SONNET_4_5}`)?.scope).toBe("global");
  });
});

describe("lookupModel id forms", () => {
  it("understands foundation-model ARNs, in any partition", () => {
    expect(lookupModel(foundationArn(SONNET_4))?.baseModelId).toBe(SONNET_4);
    expect(lookupModel(`arn:aws-us-gov:bedrock:us-gov-west-1::foundation-model/${SONNET_4}`)?.baseModelId).toBe(SONNET_4);
    expect(lookupModel(foundationArn(SONNET_4_5))?.pricing.input).toBe(3);
  });

  it("understands system inference-profile ARNs and prices them by their profile", () => {
    expect(lookupModel(profileArn(`us.${SONNET_4_5}`))?.pricing.input).toBe(3.3);
    expect(lookupModel(profileArn(`global.${SONNET_4_5}`))?.pricing.input).toBe(3);
    expect(lookupModel(profileArn("us.amazon.nova-pro-v1:0"))?.displayName).toBe("Amazon Nova Pro");
  });

  it("returns undefined for application inference profiles, unknown ids and malformed ARNs", () => {
    const unknowns = [
      "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123xyz",
      "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc",
      "anthropic.claude-9-imaginary-v1:0",
      "us.anthropic.claude-9-imaginary-v1:0",
      profileArn(SONNET_4), // a profile ARN must name a profile, not a base model
      foundationArn(`us.${SONNET_4}`), // and a foundation-model ARN a base model
      "global.",
      "",
    ];
    for (const id of unknowns) expect(lookupModel(id), id).toBeUndefined();
  });

  it("knows the models the notes list", () => {
    const ids = [
      "anthropic.claude-3-5-sonnet-20240620-v1:0",
      "anthropic.claude-3-5-sonnet-20241022-v2:0",
      "anthropic.claude-3-5-haiku-20241022-v1:0",
      "anthropic.claude-3-7-sonnet-20250219-v1:0",
      SONNET_4,
      SONNET_4_5,
      HAIKU_4_5,
      "anthropic.claude-opus-4-20250514-v1:0",
      "anthropic.claude-opus-4-1-20250805-v1:0",
      OPUS_4_5,
      "amazon.nova-micro-v1:0",
      "amazon.nova-lite-v1:0",
      "amazon.nova-pro-v1:0",
      "amazon.nova-premier-v1:0",
      "meta.llama3-70b-instruct-v1:0",
      "meta.llama3-1-70b-instruct-v1:0",
      "meta.llama3-2-90b-instruct-v1:0",
      "meta.llama3-3-70b-instruct-v1:0",
    ];
    for (const id of ids) expect(lookupModel(id), id).toBeDefined();
  });
});

describe("catalogue capabilities", () => {
  it("marks extended thinking on exactly the reasoning-capable Claude models", () => {
    const reasoning = listKnownModels()
      .filter((model) => model.capabilities.reasoning)
      .map((model) => model.displayName)
      .sort();
    expect(reasoning).toEqual(
      [
        "Claude 3.7 Sonnet",
        "Claude Haiku 4.5",
        "Claude Opus 4",
        "Claude Opus 4.1",
        "Claude Opus 4.5",
        "Claude Sonnet 4",
        "Claude Sonnet 4.5",
      ].sort(),
    );
  });

  it("lets Nova cache but not cache tools, and Llama not cache at all", () => {
    expect(lookupModel("us.amazon.nova-pro-v1:0")?.capabilities).toMatchObject({
      promptCaching: true,
      cacheMinTokens: 1000,
      cacheTools: false,
    });
    expect(lookupModel("us.meta.llama3-3-70b-instruct-v1:0")?.capabilities.promptCaching).toBe(false);
  });

  it("uses the caching minimums from the AWS table", () => {
    expect(lookupModel(SONNET_4)?.capabilities.cacheMinTokens).toBe(1024);
    expect(lookupModel("anthropic.claude-3-5-haiku-20241022-v1:0")?.capabilities.cacheMinTokens).toBe(2048);
    expect(lookupModel(HAIKU_4_5)?.capabilities.cacheMinTokens).toBe(4096);
  });

  it("never prices a cache token below input for models that cannot cache", () => {
    for (const model of listKnownModels()) {
      if (model.capabilities.promptCaching) continue;
      expect(model.pricing.cacheRead, model.baseModelId).toBe(model.pricing.input);
      expect(model.pricing.cacheWrite, model.baseModelId).toBe(model.pricing.input);
    }
  });

  it("returns copies that cannot corrupt the catalogue", () => {
    const first = lookupModel(SONNET_4);
    if (first) first.pricing.input = 0;
    expect(lookupModel(SONNET_4)?.pricing.input).toBe(3);
  });
});

describe("parseBedrockModelId", () => {
  it("splits geography from the base id", () => {
    expect(parseBedrockModelId(`us-gov.${SONNET_4}`)).toEqual({
      baseModelId: SONNET_4,
      scope: "geographic",
      geography: "us-gov",
    });
    expect(parseBedrockModelId(`apac.${SONNET_4}`)?.geography).toBe("apac");
  });
});
