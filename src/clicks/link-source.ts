/**
 * Where a campaign's links lead. The campaigns room owns the link lists and answers through this
 * port; the URL always comes from the campaign, never from the request (no open redirect).
 */
export interface LinkSource {
  /** Link `n` as sent: only a campaign whose sending began (its list frozen with the render). */
  sentLinkUrl(campaignId: number, n: number): Promise<string | null>;
  /** Link `n` as a test mail or preview shows it: a draft's links too. */
  testLinkUrl(campaignId: number, n: number): Promise<string | null>;
}
