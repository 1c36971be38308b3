import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { outboxPlugin } from '@crm/events';

/** A customer's own evaluation of a product or one of its features (CUS-8). */
export interface FeedbackRecord {
  _id: Types.ObjectId;
  customerId: string;
  /** A sales `Product` id (federation reference; the product lives in the sales service). */
  productId: string;
  feature: string | null;
  /** 1 (poor) to 5 (excellent). */
  rating: number;
  comment: string | null;
  /** Keycloak user id of who submitted it (the customer, or staff on the customer's behalf). */
  authorId: string;
  createdAt: Date;
  updatedAt: Date;
}

const feedbackSchema = new Schema<FeedbackRecord>(
  {
    customerId: { type: String, required: true },
    productId: { type: String, required: true },
    feature: { type: String, default: null },
    rating: { type: Number, required: true, min: 1, max: 5 },
    comment: { type: String, default: null },
    authorId: { type: String, required: true },
  },
  { collection: 'feedback', timestamps: true },
);
feedbackSchema.plugin(outboxPlugin);
feedbackSchema.index({ customerId: 1, _id: -1 });
feedbackSchema.index({ productId: 1, _id: -1 });

export type FeedbackModel = Model<FeedbackRecord>;
export const feedbackModel = (connection: Connection): FeedbackModel => connection.model<FeedbackRecord>('Feedback', feedbackSchema);
