import { Test } from '@nestjs/testing';
import { CatalogController } from './catalog.controller';

describe('CatalogController', () => {
  it('answers its status route', async () => {
    const moduleRef = await Test.createTestingModule({ controllers: [CatalogController] }).compile();
    expect(moduleRef.get(CatalogController).status()).toEqual({ slice: 'catalog', status: 'ok' });
  });
});
