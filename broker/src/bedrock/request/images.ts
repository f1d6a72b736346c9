// OpenAI image parts → Bedrock image blocks. Only inline data: URLs: the broker never fetches a URL
// on a client's behalf (that would let any request make the broker reach internal hosts).
import type { ContentBlock, ImageFormat } from "@aws-sdk/client-bedrock-runtime";
import { invalidRequest } from "../../errors.js";

const FORMATS: Record<string, ImageFormat> = {
  "image/png": "png",
  "image/jpeg": "jpeg",
  "image/jpg": "jpeg",
  "image/gif": "gif",
  "image/webp": "webp",
};

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

export function imageBlockFromUrl(url: string, param: string): ContentBlock {
  const match = DATA_URL.exec(url);
  if (!match) {
    const shown = url.length > 60 ? `${url.slice(0, 60)}…` : url;
    throw invalidRequest(
      `Remote image URLs are not supported (${shown}): the broker never fetches URLs for a client. ` +
        "Send the image inline as a base64 data: URL (data:image/png;base64,...).",
      param,
      "unsupported_image_url",
    );
  }
  const mime = (match[1] ?? "").toLowerCase();
  const format = FORMATS[mime];
  if (!format) {
    throw invalidRequest(
      `Unsupported image type "${mime}"; Bedrock accepts image/png, image/jpeg, image/gif and image/webp.`,
      param,
      "unsupported_image_type",
    );
  }
  const bytes = Buffer.from(match[2] ?? "", "base64");
  if (bytes.length === 0) throw invalidRequest("The image data URL holds no data.", param, "invalid_image");
  return { image: { format, source: { bytes } } };
}
