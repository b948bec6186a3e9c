import { Test } from '@nestjs/testing';
import { QualityController } from './quality.controller';

describe('QualityController', () => {
  it('answers its status route', async () => {
    const moduleRef = await Test.createTestingModule({ controllers: [QualityController] }).compile();
    expect(moduleRef.get(QualityController).status()).toEqual({ slice: 'quality', status: 'ok' });
  });
});
