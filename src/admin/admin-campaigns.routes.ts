import { Router } from 'express';
import type { AdminDeps } from './admin-deps';
import {
  copyCampaign,
  createCampaign,
  editCampaign,
  newCampaign,
  previewCampaign,
  saveCampaign,
} from './campaign-editor.handlers';
import {
  campaignStats,
  cancelCampaign,
  listCampaigns,
  pauseCampaign,
  resumeCampaign,
  sendCampaign,
  showCampaign,
  showCancelConfirm,
  showSendConfirm,
} from './campaigns.handlers';

/** /admin/campaigns (campaigns): list, editor with live preview and autosave, copy, test send, send/schedule, progress. */
export function adminCampaignRoutes(deps: AdminDeps): Router {
  const r = Router();
  r.get('/', listCampaigns(deps));
  r.get('/new', newCampaign(deps));
  r.post('/preview', previewCampaign(deps));
  r.post('/new', createCampaign(deps));
  r.get('/:id', showCampaign(deps));
  r.get('/:id/edit', editCampaign(deps));
  r.post('/:id/edit', saveCampaign(deps));
  r.post('/:id/copy', copyCampaign(deps));
  r.get('/:id/stats.json', campaignStats(deps));
  r.get('/:id/send', showSendConfirm(deps));
  r.post('/:id/send', sendCampaign(deps));
  r.post('/:id/pause', pauseCampaign(deps));
  r.post('/:id/resume', resumeCampaign(deps));
  r.get('/:id/cancel', showCancelConfirm(deps));
  r.post('/:id/cancel', cancelCampaign(deps));
  return r;
}
