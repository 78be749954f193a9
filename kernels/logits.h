/* Reductions over logit vectors (next-token distributions), in float64. */
#ifndef AM_LOGITS_H
#define AM_LOGITS_H

/* KL(p || q) of softmax(a) and softmax(b), [V] logits, in float64. */
double am_kl_logits(const float *a, const float *b, int V);

#endif
