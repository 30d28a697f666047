import type { DeploymentRepository } from '../../mlops/deploymentRepository.js';
import { routeToDeployment, type RoutedModel } from '../../mlops/deployments.js';
import { NotFoundError } from '../../platform/errors.js';
import type { Matrix } from '../multivariate/matrix.js';
import { MAX_PREDICT_ROWS, MAX_PREDICT_VALUES, predict, type ModelLoader, type PredictResponse } from './prediction.js';

/** The model a group's deployment routes a stretch of readings to, and the features (sensors) it takes. */
export interface RoutedGroupModel extends RoutedModel {
  features: readonly string[];
}

/** What the streaming scorer of a group needs from the ml context: the routing and the scoring of POST /ml/predict. */
export interface GroupModels {
  /** undefined when the group has no deployment. */
  route(tenant: string, group: string, routingKey: string): Promise<RoutedGroupModel | undefined>;
  /** Scores aligned rows (columns in the model's feature order) with the routed model version; one result a row. */
  score(tenant: string, routed: RoutedGroupModel, rows: Matrix): Promise<Pick<PredictResponse, 'threshold' | 'results'>>;
}

/**
 * A group's deployed models, through predict's own code: the deployment is routed by
 * routeToDeployment (chooseRole, as POST /ml/predict by group), and rows are scored by predict()
 * with the routed model id and version, in requests of at most predict's limits. The loader is
 * asked for only once a group has a deployment, so it can be built late.
 */
export function groupModels(loaderOf: () => Promise<ModelLoader>, deployments: Pick<DeploymentRepository, 'get'>): GroupModels {
  return {
    async route(tenant, group, routingKey) {
      let routed: RoutedModel;
      try {
        routed = await routeToDeployment(deployments, tenant, group, routingKey);
      } catch (error) {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      }
      const model = await (await loaderOf()).load(tenant, routed.model.modelId, routed.model.version);
      return { ...routed, features: model.manifest.features };
    },

    async score(tenant, routed, rows) {
      const loader = await loaderOf();
      const perRequest = Math.max(1, Math.min(MAX_PREDICT_ROWS, Math.floor(MAX_PREDICT_VALUES / rows.cols)));
      const results: PredictResponse['results'] = [];
      let threshold = Number.NaN;
      for (let start = 0; start < rows.rows; start += perRequest) {
        const end = Math.min(rows.rows, start + perRequest);
        const chunk = Array.from({ length: end - start }, (_, r) => Array.from(rows.data.subarray((start + r) * rows.cols, (start + r + 1) * rows.cols)));
        const answer = await predict(loader, tenant, { modelId: routed.model.modelId, version: routed.model.version, rows: chunk, features: [...routed.features] });
        threshold = answer.threshold;
        results.push(...answer.results);
      }
      return { threshold, results };
    },
  };
}
