// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The rill Authors
//
// batch: a list of puts and deletes that rill_write applies atomically.
// Each op is kept as the wire's Op, in one allocation with copies of its
// key and value, so a write packs the batch without copying it again.
#include <stdlib.h>
#include <string.h>

#include "client.h"

int
rill_batch_new(rill_batch **batchp)
{
	rill_batch *batch;

	if (batchp == NULL) {
		return rill__fail(RILL_INVALID_ARGUMENT, "batchp is NULL");
	}
	if ((batch = calloc(1, sizeof(*batch))) == NULL) {
		return rill__fail(RILL_ENOMEM, "out of memory");
	}
	*batchp = batch;
	return RILL_OK;
}

void
rill_batch_clear(rill_batch *batch)
{
	if (batch == NULL) {
		return;
	}
	for (size_t i = 0; i < batch->n_ops; i++) {
		free(batch->ops[i]);
	}
	batch->n_ops = 0;
}

void
rill_batch_free(rill_batch *batch)
{
	if (batch == NULL) {
		return;
	}
	rill_batch_clear(batch);
	free(batch->ops);
	free(batch);
}

size_t
rill_batch_count(const rill_batch *batch)
{
	return batch != NULL ? batch->n_ops : 0;
}

// add_op appends an op of type with copies of key and value.
static int
add_op(rill_batch *batch, Rill__V1__Op__Type type, const void *key,
    size_t klen, const void *value, size_t vlen)
{
	Rill__V1__Op *op;
	uint8_t      *data;

	if (batch == NULL) {
		return rill__fail(RILL_INVALID_ARGUMENT, "batch is NULL");
	}
	if ((key == NULL && klen > 0) || (value == NULL && vlen > 0)) {
		return rill__fail(RILL_INVALID_ARGUMENT,
		    "key or value is NULL with a length above 0");
	}
	if (klen > SIZE_MAX - sizeof(*op) - vlen) {
		return rill__fail(RILL_RESOURCE_EXHAUSTED, "op too large");
	}
	if (batch->n_ops == batch->cap_ops) {
		size_t         cap = batch->cap_ops ? 2 * batch->cap_ops : 16;
		Rill__V1__Op **ops = realloc(batch->ops, cap * sizeof(*ops));
		if (ops == NULL) {
			return rill__fail(RILL_ENOMEM, "out of memory");
		}
		batch->ops     = ops;
		batch->cap_ops = cap;
	}
	if ((op = malloc(sizeof(*op) + klen + vlen)) == NULL) {
		return rill__fail(RILL_ENOMEM, "out of memory");
	}
	rill__v1__op__init(op);
	data     = (uint8_t *) (op + 1);
	op->type = type;
	if (klen > 0) {
		memcpy(data, key, klen);
	}
	if (vlen > 0) {
		memcpy(data + klen, value, vlen);
	}
	op->key.data               = data;
	op->key.len                = klen;
	op->value.data             = data + klen;
	op->value.len              = vlen;
	batch->ops[batch->n_ops++] = op;
	return RILL_OK;
}

int
rill_batch_put(rill_batch *batch, const void *key, size_t klen,
    const void *value, size_t vlen)
{
	return add_op(batch, RILL__V1__OP__TYPE__PUT, key, klen, value, vlen);
}

int
rill_batch_delete(rill_batch *batch, const void *key, size_t klen)
{
	return add_op(batch, RILL__V1__OP__TYPE__DELETE, key, klen, NULL, 0);
}
